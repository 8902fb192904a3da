package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// The pages are in Japanese; English labels are available (issue 12):
// ?lang=en or ?lang=ja chooses and is kept in a cookie. Japanese is the
// default whatever the browser's Accept-Language says: store PCs and
// shared terminals are often set up in English, and the Japanese pages
// are the reference. Templates mark text with {{t "日本語"}}; the English set looks
// the Japanese text up in english below (a text without a row stays
// Japanese). Error messages are translated the same way: the Japanese
// message of a code maps to its English row in messagesEN.
const (
	langJA     = "ja"
	langEN     = "en"
	langCookie = "gantry_lang"
)

// lang is the request's page language; a ?lang= choice is kept in a
// cookie for the next pages.
func (s *Site) lang(c echo.Context) string {
	if l := c.QueryParam("lang"); l == langEN || l == langJA {
		c.SetCookie(&http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true,
			Secure: s.SecureCookies || c.IsTLS(), SameSite: http.SameSiteLaxMode})
		return l
	}
	if ck, err := c.Cookie(langCookie); err == nil && (ck.Value == langEN || ck.Value == langJA) {
		return ck.Value
	}
	return langJA
}

// translator returns the text function of a language.
func translator(lang string) func(string) string {
	if lang != langEN {
		return func(s string) string { return s }
	}
	table := make(map[string]string, len(english)+len(messagesEN))
	for k, v := range english {
		table[k] = v
	}
	for code, ja := range messages {
		if en, ok := messagesEN[code]; ok {
			table[ja] = en
		}
	}
	return func(s string) string {
		if v, ok := table[s]; ok {
			return v
		}
		return s
	}
}

// messagesEN are the English texts of the domain's error codes (see
// messages).
var messagesEN = map[string]string{
	"missing_applicant":       "Enter the applicant's name (for a corporation, its name and the person in charge).",
	"missing_address":         "Enter the address.",
	"invalid_phone":           "Enter the phone number with 10 to 15 digits (hyphens allowed).",
	"invalid_email":           "Enter the e-mail address as name@example.jp. We send the application ID and passcode to it.",
	"missing_vehicle_user":    "Enter the user named on the vehicle inspection certificate.",
	"incomplete_agent":        "Enter the agent's name, address and phone number, or leave all three empty when there is no agent.",
	"regulation_not_accepted": "You cannot apply without accepting this regulation. Please read it and tick the box.",
	"invalid_units":           "Enter a number of on-board units of 1 or more.",
	"invalid_application_id":  "The application ID is letters, digits and hyphens (up to 40).",
	"invalid_passcode":        "The passcode is 4 to 64 letters and digits.",
	"invalid_qr":              "This is not an application QR code. Scan the QR code in the mail, or enter the application ID and passcode.",
	"bad_credentials":         "The ID or the password (passcode) is wrong.",
	"wrong_passcode":          "The passcode does not match the application ID. Check the passcode in the mail \"Your application is complete\".",
	"reception_locked":        "Reception is locked after too many wrong passcodes. Ask the help desk to unlock it.",
	"already_received":        "This application has already been received.",
	"application_not_found":   "No application has this ID.",
	"application_expired":     "The 60 days for reception after the application have passed, so it is no longer valid. Please apply again.",
	"reception_period_over":   "The 60 days for reception after the application have passed, so it is no longer valid. Please apply again.",
	"bad_date":                "Enter the date as YYYY-MM-DD.",
	"unknown_store":           "No setup store has this code. Scan the store's QR code again, or apply without a store.",
	"link_expired":            "The download link has expired. Ask the store to send a new link.",
	"missing_reason":          "Enter the reason for looking. Every audit read is recorded with its reason.",
	"stream_not_found":        "No stream has this ID; they look like application-…, consent-…, setup-…, certificate-…, invoice-….",
}

// english are the English texts of the pages' Japanese labels.
var english = map[string]string{
	// Layout and home.
	"Gantry ETCセットアップ": "Gantry ETC setup", "メニュー": "Menu", "店舗トップ": "Store home", "委任状登録": "Proxy consent",
	"代行申請": "Proxy filing", "申請状況": "Application status", "経理トップ": "Finance home", "監査": "Audit",
	"申請する": "Apply", "申請状況の確認": "Check an application", "スタッフログイン": "Staff login", "店舗": "store",
	"ログアウト": "Log out", "トップ": "Home", "ETC車載器セットアップ": "ETC on-board unit setup", "お客様": "Customers",
	"セットアップを申請する": "Apply for a setup", "（店舗のQRコードからも開けます）": "(the store's QR code opens it too)",
	"申請状況を確認する・証明書をダウンロードする": "Check your application, download the certificate", "スタッフ": "Staff",
	"ログイン（店舗・経理・監査）": "Log in (stores, finance, audit)", "セットアップ管理情報サイト": "Setup management site", "経理": "Finance",
	"言語": "Language",
	// Application form.
	"セットアップ申請": "Setup application", "ETC車載器セットアップ申請": "ETC on-board unit setup application",
	"入力内容をご確認ください。エラーの項目に説明を表示しています。": "Please check the form: each field with an error says what is wrong.",
	"セットアップ店：": "Setup store: ", "申請者": "Applicant", "確認画面へ進む": "Continue to confirmation",
	"申請者の区分": "Applicant type", "個人": "Person", "法人": "Corporation", "代理人": "Agent", "代理人を指定する": "Name an agent",
	"関係規程類への同意": "Acceptance of the regulations",
	"次の4つの規程をお読みいただき、それぞれに同意してください。": "Please read the four regulations below and accept each of them (the texts are the binding Japanese originals).",
	"（サンプル文面：運営者が実際の規程に差し替えます）":      "(Sample text: the operator replaces it with the regulation in force.)",
	"に同意します":          ": I accept",
	"法人名（法人の場合）":      "Corporation name (corporations only)",
	"氏名（法人の場合は担当者氏名）": "Name (for a corporation, the person in charge)",
	"住所":            "Address",
	"連絡先電話番号":       "Phone number",
	"10〜15桁。ハイフン可。": "10 to 15 digits; hyphens allowed.",
	"メールアドレス":       "E-mail address",
	"申請IDとパスコードをお送りします。": "We send the application ID and passcode to it.",
	"代理人氏名":      "Agent's name",
	"代理人住所":      "Agent's address",
	"代理人連絡先電話番号": "Agent's phone number",
	"車検証上の使用者":   "User on the vehicle inspection certificate",
	"車検証に記載のとおりに入力してください。": "As written on the vehicle inspection certificate.",
	"車載器の台数": "Number of on-board units",
	// Confirmation and completion.
	"申請内容の確認": "Confirm your application", "内容をご確認のうえ「この内容で申請する」を押してください。": "Please check the details, then press \"Apply with these details\".",
	"セットアップ店": "Setup store", "区分": "Type", "法人名": "Corporation name", "氏名": "Name", "連絡先": "Phone", "メール": "E-mail",
	"規程への同意": "Regulations accepted", "：同意済み": ": accepted", "この内容で申請する": "Apply with these details", "入力画面に戻る": "Back to the form",
	"申請が完了しました": "Your application is complete", "あてに": "to", "申請IDとパスコード、QRコードをメールでお送りしました。": "We have mailed the application ID, the passcode and the QR code.",
	"申請ID": "Application ID", "パスコード": "Passcode", "受付用QRコード（申請IDとパスコード）": "QR code for reception (application ID and passcode)",
	"セットアップ店でこのQRコード、または申請IDとパスコードをご提示ください。": "Show this QR code, or the application ID and passcode, at the setup store.",
	"申請完了から60日以内": "within 60 days of the application", "に店舗で受付されない場合、申請は無効になります。": ", the application is no longer valid if no store has received it.",
	"申請状況を確認する": "Check the application status",
	// Customer login and status.
	"確認する": "Check", "メールのQRコードのリンクからも開けます。": "The link of the QR code in the mail opens it too.",
	"申請日時": "Applied at", "店舗受付": "Received by a store", "受付済み": "Received", "未受付": "Not received", "受付期限": "Reception deadline",
	"あと": "", "日": "days left", "保存期限": "Kept until", "セットアップ証明書": "Setup certificate", "証明書番号": "Certificate number",
	"証明書（PDF）をダウンロード": "Download the certificate (PDF)", "セットアップが完了すると、ここから証明書をダウンロードできます。": "Once the setup is complete, you can download the certificate here.",
	// Staff login and errors.
	"スタッフID": "Staff ID", "パスワード": "Password", "ログイン": "Log in", "エラー": "Error", "処理できませんでした": "The request could not be processed",
	"前のページに戻る": "Back to the previous page", "処理できませんでした。": "The request could not be processed.", "トップへ": "Home",
	"フォームの有効期限が切れました。ページを開き直してもう一度送信してください。": "The form expired; reload the page and send it again.",
	"このページを開く権限がありません。":                      "Your role may not open this page.",
	"ただいま処理できません。しばらくしてからもう一度お試しください。":       "Please try again later.",
	// Roles.
	"店舗スタッフ": "Store staff", "店舗管理者": "Store admin", "監督官庁": "Regulator", "運営管理者": "Operator admin",
}
