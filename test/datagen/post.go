package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Login returns an operator admin's token (admin is ID:PASSWORD).
func Login(url, admin string) (string, error) {
	id, pw, ok := strings.Cut(admin, ":")
	if !ok {
		return "", fmt.Errorf("-admin ID:PASSWORD is required")
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := postJSON(url+"/v1/auth/staff/login", "", map[string]string{"staff_id": id, "password": pw}, &tok); err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	return tok.Token, nil
}

// Post concludes the contracts and issues the cards of dir over HTTP with
// workers concurrent requests and an operator admin's token, writes
// dir/issued.csv (card,vehicle in file order) and prints the rate of the
// first and the last 1,000 cards answered.
func (s Spec) Post(out io.Writer, dir, url, token string, workers int) error {
	lines := func(name string) ([][]byte, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		return bytes.Split(bytes.TrimSpace(b), []byte("\n")), nil
	}
	contracts, err := lines("contracts.jsonl")
	if err != nil {
		return err
	}
	if _, err := post(url+"/v1/contracts", token, contracts, workers); err != nil {
		return err
	}
	cards, err := lines("cards.jsonl")
	if err != nil {
		return err
	}
	answers, err := post(url+"/v1/cards", token, cards, workers)
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "issued.csv"))
	if err != nil {
		return err
	}
	w := csv.NewWriter(bufio.NewWriter(f))
	for _, a := range answers {
		var row struct{ Card, Vehicle string }
		if err := json.Unmarshal(a.body, &row); err != nil {
			return err
		}
		_ = w.Write([]string{row.Card, row.Vehicle})
	}
	w.Flush()
	if err := errors(w.Error(), f.Close()); err != nil {
		return err
	}
	n := len(answers)
	at := make([]time.Time, n)
	for i, a := range answers {
		at[i] = a.at
	}
	slices.SortFunc(at, time.Time.Compare)
	if n >= 2000 {
		rate := func(a, b int) float64 { return 999 / at[b].Sub(at[a]).Seconds() }
		firstR, lastR := rate(0, 999), rate(n-1000, n-1)
		fmt.Fprintf(out, "issued %d cards: first 1,000 at %.0f/s, last 1,000 at %.0f/s (last/first %.2f), overall %.0f/s\n",
			n, firstR, lastR, lastR/firstR, float64(n-1)/at[n-1].Sub(at[0]).Seconds())
	}
	return nil
}

type answer struct {
	body []byte
	at   time.Time
}

// post sends each body with workers in parallel; answers come back in the
// bodies' order, each with the time it arrived.
func post(url, token string, bodies [][]byte, workers int) ([]answer, error) {
	out := make([]answer, len(bodies))
	next := make(chan int)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				b, err := send(url, token, bodies[i])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("%s line %d: %w", url, i+1, err)
				}
				out[i] = answer{b, time.Now()}
				mu.Unlock()
			}
		}()
	}
	for i := range bodies {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return out, firstErr
}

func send(url, token string, body []byte) ([]byte, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%d %s", resp.StatusCode, b)
	}
	return b, nil
}

func postJSON(url, token string, in, out any) error {
	j, err := json.Marshal(in)
	if err != nil {
		return err
	}
	b, err := send(url, token, j)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func errors(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
