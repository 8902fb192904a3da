package mail

import (
	"context"
	"fmt"

	qrcode "github.com/skip2/go-qrcode"

	es "github.com/gantry-etc/gantry/commands/eventstore"
	"github.com/gantry-etc/gantry/domain"
	"github.com/gantry-etc/gantry/domain/application"
	"github.com/gantry-etc/gantry/domain/certificate"
)

// Handler names are durable: they name the bus topic and consumer group
// (and SQL tables: letters, digits and underscores only).
const (
	ApplicationMailHandler = "mail_setup_application_completed"
	CertificateMailHandler = "mail_setup_certificate_link"
)

// Loader loads an application stream (commands.Streams).
type Loader interface {
	Load(ctx context.Context, stream string, apply func(domain.Event)) (int64, error)
}

// SetupMails renders and sends the setup mails from events.
type SetupMails struct {
	Sender interface {
		Send(context.Context, Message) error
	}
	Streams   Loader
	PublicURL string
}

func (m SetupMails) recipient(ctx context.Context, appID string) (string, bool, error) {
	a := application.New()
	if _, err := m.Streams.Load(ctx, "application-"+appID, a.Apply); err != nil {
		return "", false, err
	}
	d := a.Details()
	if d.Erased || a.ByProxy() || d.Value.Applicant.Email == "" {
		return "", false, nil
	}
	return d.Value.Applicant.Email, true, nil
}

// ApplicationCompleted mails the application ID, passcode and QR code.
// Erased (shredded) data means the application is gone: nothing is sent.
func (m SetupMails) ApplicationCompleted(ctx context.Context, ev es.Event) error {
	e, ok := ev.Payload.(application.PasscodeSealed)
	if !ok || e.Passcode.Erased {
		return nil
	}
	to, ok, err := m.recipient(ctx, e.ApplicationID.String())
	if err != nil || !ok {
		return err
	}
	qr, err := application.NewQR(e.ApplicationID, e.Passcode.Value)
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(qr.Encode(), qrcode.Medium, 256)
	if err != nil {
		return err
	}
	body := fmt.Sprintf("申請が完了しました。\n\n申請ID: %s\nパスコード: %s\n\nセットアップ店で添付のQRコード、または申請IDとパスコードをご提示ください。有効期限は申請完了から60日です。\n", e.ApplicationID, e.Passcode.Value)
	return m.Sender.Send(ctx, Message{ID: fmt.Sprintf("%s-%d@gantry", ev.StreamID, ev.Version), To: to, Subject: "申請が完了しました", Body: body,
		Attachments: []Attachment{{Name: "application-qr.png", ContentType: "image/png", Data: png}}})
}

// CertificateLink mails the certificate download link (valid 60 days).
func (m SetupMails) CertificateLink(ctx context.Context, ev es.Event) error {
	e, ok := ev.Payload.(certificate.LinkSecretSealed)
	if !ok || e.Secret.Erased {
		return nil
	}
	to, ok, err := m.recipient(ctx, e.ApplicationID)
	if err != nil || !ok {
		return err
	}
	link := m.PublicURL + "/v1/certificate-links/" + e.Number + "." + e.Secret.Value
	body := fmt.Sprintf("セットアップが完了しました。\n\nセットアップ証明書 %s は次のURLからダウンロードできます（送信から60日間有効）:\n%s\n", e.Number, link)
	return m.Sender.Send(ctx, Message{ID: fmt.Sprintf("%s-%d@gantry", ev.StreamID, ev.Version), To: to, Subject: "セットアップ証明書のダウンロード", Body: body})
}
