package web

import (
	"errors"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/domain"
)

// messages are the Japanese texts of the domain's error codes (domain.Error
// Code). A code without a row shows the domain's own (English) detail.
var messages = map[string]string{
	"missing_applicant":       "申請者氏名を入力してください（法人の場合は法人名と担当者氏名）。",
	"missing_address":         "住所を入力してください。",
	"invalid_phone":           "連絡先電話番号を10〜15桁の数字で入力してください（ハイフン可）。",
	"invalid_email":           "メールアドレスを name@example.jp の形式で入力してください。申請IDとパスコードをお送りします。",
	"missing_vehicle_user":    "車検証に記載の使用者を入力してください。",
	"incomplete_agent":        "代理人の氏名・住所・連絡先をすべて入力してください。代理人がいない場合は空欄のままにしてください。",
	"regulation_not_accepted": "この規程に同意いただかないと申請できません。内容をご確認のうえチェックしてください。",
	"invalid_units":           "車載器の台数は1以上の数字で入力してください。",
	"invalid_application_id":  "申請IDは半角英数字とハイフン（40文字以内）です。",
	"invalid_passcode":        "パスコードは4〜64文字の半角英数字です。",
	"invalid_qr":              "申請用のQRコードではありません。メールのQRコードを読み取るか、申請IDとパスコードを入力してください。",
	"bad_credentials":         "IDまたはパスワード（パスコード）が違います。",
	"wrong_passcode":          "パスコードが申請IDと一致しません。「申請が完了しました」メールのパスコードをご確認ください。",
	"reception_locked":        "パスコードの誤りが続いたため受付がロックされました。ヘルプデスクに解除を依頼してください。",
	"already_received":        "この申請はすでに受付済みです。",
	"application_not_found":   "この申請IDの申請は見つかりません。",
	"application_expired":     "受付期限（申請完了から60日）を過ぎたため、この申請は無効です。もう一度申請してください。",
	"reception_period_over":   "受付期限（申請完了から60日）を過ぎたため、この申請は無効です。もう一度申請してください。",
	"step_out_of_order":       "この手順は今は行えません。次の手順から進めてください。",
	"missing_consent":         "委任状IDを入力してください。",
	"invalid_consent_id":      "委任状IDは半角英数字とハイフン（40文字以内）です。",
	"missing_request_date":    "委任状の依頼日を入力してください。",
	"no_delegation":           "セットアップ申請を店舗に委任する旨の記載が必要です。",
	"invalid_consent_period":  "複数台の委任状には有効期間（開始日・終了日）が必要です。終了日は開始日以降にしてください。",
	"consent_not_found":       "この委任状IDは登録されていません。先に委任状を登録してください。",
	"consent_exists":          "この委任状IDはすでに登録されています。別のIDを使ってください。",
	"consent_used_up":         "この委任状の台数はすべて使用済みです。",
	"consent_other_store":     "この委任状は別の店舗宛てです。",
	"consent_period_over":     "この委任状の有効期間は終了しています。",
	"consent_not_yet_valid":   "この委任状の有効期間はまだ始まっていません。",
	"not_a_pdf":               "PDFファイルを選択してください。",
	"bad_date":                "日付を YYYY-MM-DD の形式で入力してください。",
	"missing_identity_method": "本人確認の方法を入力してください。",
	"missing_reason":          "閲覧の理由を入力してください。監査のための閲覧はすべて理由とともに記録されます。",
	"reason_too_long":         "理由は500文字以内で入力してください。",
	"stream_not_found":        "このIDのストリームはありません。application-…、consent-…、setup-…、certificate-…、invoice-… の形式です。",
	"unknown_store":           "このコードのセットアップ店はありません。店舗のQRコードをもう一度読み取るか、店舗を指定せずに申請してください。",
	"link_expired":            "ダウンロードリンクの有効期限が切れています。店舗にリンクの再送を依頼してください。",
}

// message is the Japanese text of err for a person (the domain's detail
// when the code has no translation; the English pages show messagesEN).
func message(err error) string {
	var de *domain.Error
	if errors.As(err, &de) {
		if m, ok := messages[de.Code]; ok {
			return m
		}
		return de.Detail
	}
	p := api.ProblemFor(err)
	if m, ok := messages[p.Code]; ok {
		return m
	}
	if p.Detail != "" {
		return p.Detail
	}
	return "処理できませんでした。"
}
