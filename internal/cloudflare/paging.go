package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
)

// defaultPerPage is the page size of list calls. Cloudflare documents no maximum for
// Access lists; 100 is accepted everywhere.
const defaultPerPage = 100

// page is one page of a v4 list answer.
type page struct {
	Result     []json.RawMessage `json:"result"`
	ResultInfo *resultInfo       `json:"result_info"`
}

// resultInfo describes a page. Cloudflare sends page and per_page everywhere, and the
// counts on most lists.
type resultInfo struct {
	PerPage    int `json:"per_page"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// listAll reads every page of the list at path and calls each for every item, in order.
// The SDK's auto-pager is not used: it drops the context after the first page and asks
// for one empty page too many.
func (c *Client) listAll(ctx context.Context, path string, query url.Values, perPage int,
	each func(json.RawMessage) error) error {
	if perPage <= 0 {
		perPage = defaultPerPage
	}
	query.Set("per_page", strconv.Itoa(perPage))
	var seen int
	var previousFirst json.RawMessage
	for number := 1; ; number++ {
		query.Set("page", strconv.Itoa(number))
		var pg page
		if err := c.sdk.Get(ctx, path+"?"+query.Encode(), nil, &pg); err != nil {
			return err
		}
		if len(pg.Result) > 0 && bytes.Equal(pg.Result[0], previousFirst) {
			return &Error{Kind: KindServer, Hint: hintStatus,
				Message: fmt.Sprintf("the API sent page %d twice", number-1)}
		}
		for _, raw := range pg.Result {
			if err := each(raw); err != nil {
				return err
			}
		}
		seen += len(pg.Result)
		if lastPage(pg, number, seen, perPage) {
			return nil
		}
		previousFirst = pg.Result[0]
	}
}

// lastPage reports whether pg, the number-th page, ends the list, trusting result_info
// where the API sent it and a short or empty page otherwise.
func lastPage(pg page, number, seen, perPage int) bool {
	info := pg.ResultInfo
	switch {
	case len(pg.Result) == 0:
		return true
	case info != nil && info.TotalPages > 0:
		return number >= info.TotalPages
	case info != nil && info.TotalCount > 0:
		return seen >= info.TotalCount
	case info != nil && info.PerPage > 0:
		return len(pg.Result) < info.PerPage
	default:
		return len(pg.Result) < perPage
	}
}

// getResult GETs path and decodes the result of the answer into v.
func (c *Client) getResult(ctx context.Context, path string, v any) error {
	var envelope struct {
		Result json.RawMessage `json:"result"`
	}
	if err := c.sdk.Get(ctx, path, nil, &envelope); err != nil {
		return err
	}
	return c.decodeResult(envelope.Result, v)
}

// sendResult sends body with method to path and decodes the result into v, if v is not nil.
func (c *Client) sendResult(ctx context.Context, method, path string, body, v any) error {
	var envelope struct {
		Result json.RawMessage `json:"result"`
	}
	if err := c.sdk.Execute(ctx, method, path, body, &envelope); err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	return c.decodeResult(envelope.Result, v)
}

// decodeResult decodes an API result into v. Its error says nothing about the JSON.
func (c *Client) decodeResult(raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return c.unreadable("answer")
	}
	return nil
}

// unreadable is the error for an answer that does not decode as what, such as "service
// token".
func (c *Client) unreadable(what string) *Error {
	return &Error{Kind: KindServer, Hint: hintStatus,
		Message: "unreadable " + what + " from " + c.host}
}
