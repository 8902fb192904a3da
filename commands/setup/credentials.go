package setup

import "github.com/gantry-etc/gantry/domain/application"

// Credentials prove a customer's application: its ID and passcode, or the
// QR payload that carries both (the QR wins when given).
type Credentials struct {
	ApplicationID string
	Passcode      string
	QR            string
}

// resolve returns the application ID and passcode, or the reason the
// credentials cannot be read.
func (c Credentials) resolve() (application.ID, string, error) {
	if c.QR != "" {
		q, err := application.ParseQR(c.QR)
		if err != nil {
			return application.ID{}, "", err
		}
		return q.ID(), q.Passcode(), nil
	}
	id, err := application.ParseID(c.ApplicationID)
	if err != nil {
		return application.ID{}, "", err
	}
	if c.Passcode == "" {
		return application.ID{}, "", application.ErrInvalidPasscode.With("passcode", "Give the passcode or the QR payload.")
	}
	return id, c.Passcode, nil
}
