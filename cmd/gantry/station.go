package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	escard "github.com/ebfe/scard"

	"github.com/gantry-etc/gantry/adapters/scard"
	"github.com/gantry-etc/gantry/station"
)

const stationUsage = `usage: gantry station [flags] readers | enrol STAFF_ID | login | write-card SETUP_ID | identity SETUP_ID
  flags: -url Gantry API base URL (GANTRY_URL, default http://127.0.0.1:8080)
         -reader PC/SC reader name (GANTRY_READER, default: the first reader)
         -wait how long to wait for a card (default 30s)
         -face FILE the camera image for the face step of login
  The PIN is read from GANTRY_CARD_PIN or, if unset, from the first line of
  standard input. The token (an admin's for enrol, the staff's otherwise) is
  GANTRY_TOKEN; login prints a new one.`

// stationCmd is `gantry station`: the store-side program. It needs no
// database or server keys, only the API URL and a reader.
func stationCmd(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("station", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	url := fs.String("url", envOr("GANTRY_URL", "http://127.0.0.1:8080"), "")
	reader := fs.String("reader", os.Getenv("GANTRY_READER"), "")
	wait := fs.Duration("wait", 30*time.Second, "")
	faceFile := fs.String("face", "", "")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		return errors.New(stationUsage)
	}
	st := &station.Station{Cards: &scard.Reader{Name: *reader, Wait: *wait}, API: &station.Client{BaseURL: *url}}
	token := os.Getenv("GANTRY_TOKEN")
	pin := func() (string, error) {
		if p := os.Getenv("GANTRY_CARD_PIN"); p != "" {
			return p, nil
		}
		fmt.Fprint(os.Stderr, "card PIN: ")
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("no PIN given (GANTRY_CARD_PIN or standard input)")
		}
		return strings.TrimSpace(line), nil
	}
	arg := func() (string, error) {
		if fs.NArg() < 2 {
			return "", errors.New(stationUsage)
		}
		return fs.Arg(1), nil
	}
	switch fs.Arg(0) {
	case "readers":
		c, err := escard.EstablishContext()
		if err != nil {
			return fmt.Errorf("%w (PC/SC: %v)", station.ErrNoReader, err)
		}
		defer c.Release()
		rs, err := c.ListReaders()
		if err != nil {
			return fmt.Errorf("%w (PC/SC: %v)", station.ErrNoReader, err)
		}
		for _, r := range rs {
			fmt.Fprintln(out, r)
		}
		return nil
	case "enrol":
		id, err := arg()
		if err != nil {
			return err
		}
		p, err := pin()
		if err != nil {
			return err
		}
		serial, err := st.Enrol(ctx, token, id, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "card %s enrolled to %s\n", serial, id)
		return nil
	case "login":
		p, err := pin()
		if err != nil {
			return err
		}
		var img []byte
		if *faceFile != "" {
			if img, err = os.ReadFile(*faceFile); err != nil {
				return err
			}
		}
		l, err := st.Login(ctx, p, img)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s\n", l.Token)
		fmt.Fprintf(os.Stderr, "logged in: %s (%s, store %s)\n", l.StaffID, l.Role, l.Store)
		return nil
	case "write-card":
		id, err := arg()
		if err != nil {
			return err
		}
		w, err := st.WriteSetupCard(ctx, token, id, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "setup card %s written and read back (sha256 %s); setup %s at version %d\n", w.CardSerial, w.Hash, id, w.Version)
		return nil
	case "identity":
		id, err := arg()
		if err != nil {
			return err
		}
		p, err := pin()
		if err != nil {
			return err
		}
		r, err := st.CheckIdentity(ctx, token, id, 0, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "identity check of setup %s: passed=%t (revocation %s)\n", id, r.Passed, r.RevocationStatus)
		return nil
	}
	return errors.New(stationUsage)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
