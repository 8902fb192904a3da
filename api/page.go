package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/gantry-etc/gantry/projections"
)

// PageOf reads a list route's page from the query: `limit` (1 to
// projections.MaxPageSize, default projections.DefaultPageSize) and
// `cursor` (the opaque value of a previous answer's next link). Anything
// else is a 400 that says what is allowed.
func PageOf(c echo.Context) (projections.PageRequest, error) {
	size := 0
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return projections.PageRequest{}, BadRequest("invalid_page_size", fmt.Sprintf("limit must be a whole number from 1 to %d.", projections.MaxPageSize))
		}
		if n > projections.MaxPageSize {
			return projections.PageRequest{}, BadRequest("page_size_too_large", fmt.Sprintf("limit may be at most %d; follow the next link for more rows.", projections.MaxPageSize))
		}
		size = n
	}
	p, err := projections.ParsePage(c.QueryParam("cursor"), size)
	if errors.Is(err, projections.ErrBadCursor) {
		return p, BadRequest("invalid_cursor", "The cursor is not one this server gave out; start again without it.")
	}
	return p, err
}

// Paged answers one page of a list as a JSON array, with the next page's
// URL in a `Link: <…>; rel="next"` header (RFC 8288); the last page has
// none. The next URL keeps the request's other query parameters.
func Paged[T any](c echo.Context, page projections.Page[T], err error) error {
	if err != nil {
		return err
	}
	if page.Next != "" {
		u := *c.Request().URL
		q := u.Query()
		q.Set("cursor", page.Next)
		u.RawQuery = q.Encode()
		c.Response().Header().Set("Link", "<"+(&url.URL{Path: u.Path, RawQuery: u.RawQuery}).String()+`>; rel="next"`)
	}
	return c.JSON(http.StatusOK, page.Items)
}

// pageQuery are the query parameters of a paged list route.
var pageQuery = []Param{
	Q("limit", fmt.Sprintf("Rows per page, 1 to %d (default %d); more is a 400.", projections.MaxPageSize, projections.DefaultPageSize)),
	Q("cursor", "Opaque: the cursor of the previous answer's next link."),
}
