package setupapi

import (
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/api"
	"github.com/gantry-etc/gantry/domain/application"
)

// Rate limits of the setup area's public routes (api.Op.Limit): logins per
// address and per staff ID or application ID, applications per address,
// verification per address, certificate downloads per address and per link.
var (
	staffLoginLimit    = api.Limit{Class: api.LimitLogin, Target: staffTarget}
	customerLoginLimit = api.Limit{Class: api.LimitLogin, Target: customerTarget}
	applyLimit         = api.Limit{Class: api.LimitApply}
	verifyLimit        = api.Limit{Class: api.LimitVerify}
	downloadLimit      = api.Limit{Class: api.LimitDownload, Target: api.PathTarget("token")}
)

func staffTarget(c echo.Context, body []byte) string {
	if id := api.JSONTarget("staff_id")(c, body); id != "" {
		return "staff:" + id
	}
	return ""
}

// customerTarget is the application ID of a customer login, typed or inside
// the QR payload.
func customerTarget(_ echo.Context, body []byte) string {
	var req CustomerLogin
	if json.Unmarshal(body, &req) != nil {
		return ""
	}
	if req.QR != "" {
		if q, err := application.ParseQR(req.QR); err == nil {
			return "application:" + q.ID().String()
		}
		return ""
	}
	if req.ApplicationID != "" {
		return "application:" + req.ApplicationID
	}
	return ""
}
