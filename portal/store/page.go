package store

import (
	"gorm.io/gorm"
)

// Page sizes of the resource lists.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Page selects one page of a list ordered by a unique key: the items whose
// key sorts after After, at most Limit of them. A Limit of 0 means every
// item after After.
type Page struct {
	After string
	Limit int
}

// apply adds the cursor and a limit of one more than the page, so that
// trimPage can tell whether a next page exists.
func (p Page) apply(query *gorm.DB, column string) *gorm.DB {
	if p.After != "" {
		query = query.Where(column+" > ?", p.After)
	}
	if p.Limit > 0 {
		query = query.Limit(p.Limit + 1)
	}
	return query.Order(column)
}

// trimPage cuts items to the page's limit and reports whether more exist.
func trimPage[T any](items []T, page Page) ([]T, bool) {
	if page.Limit > 0 && len(items) > page.Limit {
		return items[:page.Limit], true
	}
	return items, false
}
