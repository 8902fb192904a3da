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
	NextLink(c, page.Next)
	return c.JSON(http.StatusOK, page.Items)
}

// NextLink sets the `Link: <…>; rel="next"` header of a page whose next
// cursor is next and returns that URL; on the last page (next "") it sets
// nothing and returns "". Lists answered inside an object use it to put the
// same URL in the object's `next` field.
func NextLink(c echo.Context, next string) string {
	if next == "" {
		return ""
	}
	u := *c.Request().URL
	q := u.Query()
	q.Set("cursor", next)
	link := (&url.URL{Path: u.Path, RawQuery: q.Encode()}).String()
	c.Response().Header().Set("Link", "<"+link+`>; rel="next"`)
	return link
}

// pageQuery are the query parameters of a paged list route.
var pageQuery = []Param{
	Q("limit", fmt.Sprintf("Rows per page, 1 to %d (default %d); more is a 400.", projections.MaxPageSize, projections.DefaultPageSize)),
	Q("cursor", "Opaque: the cursor of the previous answer's next link."),
}
