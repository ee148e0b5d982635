package emulator

import (
	"net/http"
	"strconv"
	"strings"
)

// List paging: Cloudflare documents neither default nor maximum. The emulator uses 20 (the
// spec's example) and caps per_page at 1000.
const (
	defaultPerPage = 20
	maxPerPage     = 1000
)

// listQuery is the paging and filtering of a list request.
type listQuery struct {
	page, perPage int
	name          string // exact match
	search        string // case-insensitive substring
	domain        string // exact match, applications only
}

func parseListQuery(c *apiCall) (listQuery, error) {
	values := c.r.URL.Query()
	q := listQuery{page: 1, perPage: defaultPerPage, name: values.Get("name"),
		search: strings.ToLower(values.Get("search")), domain: values.Get("domain")}
	var err error
	if q.page, err = positiveParam(values.Get("page"), "page", 1); err != nil {
		return q, err
	}
	q.perPage, err = positiveParam(values.Get("per_page"), "per_page", defaultPerPage)
	if err != nil {
		return q, err
	}
	q.perPage = min(q.perPage, maxPerPage)
	return q, nil
}

func positiveParam(value, name string, fallback int) (int, error) {
	if value == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 {
		return 0, errInvalid("%s: want a whole number from 1, got %q", name, value)
	}
	return n, nil
}

// matches reports whether an item with this name passes the name and search filters.
// search also looks at the other strings given, such as a client id or a domain.
func (q listQuery) matches(name string, searchable ...string) bool {
	if q.name != "" && name != q.name {
		return false
	}
	if q.search == "" {
		return true
	}
	for _, s := range append(searchable, name) {
		if strings.Contains(strings.ToLower(s), q.search) {
			return true
		}
	}
	return false
}

// paginate answers one page of items. A page past the end is empty, not an error: the v6
// SDK's auto-pager stops on an empty page.
func paginate[T any](items []T, q listQuery) (apiResult, error) {
	total := len(items)
	page := []T{}
	if q.page-1 < (total+q.perPage-1)/q.perPage {
		start := (q.page - 1) * q.perPage
		page = append(page, items[start:min(start+q.perPage, total)]...)
	}
	info := &resultInfo{Page: q.page, PerPage: q.perPage, Count: len(page), TotalCount: total,
		TotalPages: (total + q.perPage - 1) / q.perPage}
	return apiResult{status: http.StatusOK, result: page, info: info}, nil
}
