package store

import (
	"context"
	"fmt"
)

// MaxFeedBatch is the largest number of events that one Changes call
// returns.
const MaxFeedBatch = 1000

// FeedEvent is one change event with its position in the change feed.
//
// The position is the change_events primary key. It grows with every event
// and never repeats. On PostgreSQL, writers append under one advisory lock
// held until commit, so a reader never sees a position before a smaller one
// commits. Positions can have holes (a sequence value of a rolled-back
// insert), so a follower resumes "after" the last position it applied
// instead of counting events.
type FeedEvent struct {
	Position int64 `json:"position"`
	ChangeEvent
}

// Changes returns up to limit events with a position above after, oldest
// first. A limit outside 1..MaxFeedBatch means MaxFeedBatch.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]FeedEvent, error) {
	if limit <= 0 || limit > MaxFeedBatch {
		limit = MaxFeedBatch
	}

	var rows []changeEventRow
	err := s.reader.WithContext(ctx).
		Where("id > ?", after).
		Order("id").
		Limit(limit).
		Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list change events after position %d: %w", after, err)
	}

	events := make([]FeedEvent, 0, len(rows))
	for i := range rows {
		events = append(events, feedEventFromRow(&rows[i]))
	}
	return events, nil
}

// FeedHead returns the highest position in the change feed, or 0 when the
// feed is empty.
func (s *Store) FeedHead(ctx context.Context) (int64, error) {
	var head int64
	err := s.reader.WithContext(ctx).Model(&changeEventRow{}).Select("COALESCE(MAX(id), 0)").Scan(&head).Error
	if err != nil {
		return 0, fmt.Errorf("read change feed head: %w", err)
	}
	return head, nil
}

// LatestChange returns the newest change event of the slug, or a
// NotFoundError when the slug has none.
func (s *Store) LatestChange(ctx context.Context, slug string) (FeedEvent, error) {
	var row changeEventRow
	result := s.reader.WithContext(ctx).Where("tenant = ?", slug).Order("id DESC").Limit(1).Find(&row)
	if result.Error != nil {
		return FeedEvent{}, fmt.Errorf("read latest change of tenant %q: %w", slug, result.Error)
	}
	if result.RowsAffected == 0 {
		return FeedEvent{}, &NotFoundError{Resource: "tenant", Name: slug}
	}
	return feedEventFromRow(&row), nil
}

func feedEventFromRow(row *changeEventRow) FeedEvent {
	return FeedEvent{
		Position: int64(row.ID),
		ChangeEvent: ChangeEvent{
			Tenant:   row.Tenant,
			Revision: row.Revision,
			Kind:     row.Kind,
			Resource: row.Resource,
			Time:     row.Time,
		},
	}
}
