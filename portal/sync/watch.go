package sync

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// PollInterval is how often the fallback poll reads the feed head. It
// bounds the delay of a change written through another replica while
// LISTEN/NOTIFY is down.
const PollInterval = time.Second

// listenRetry is the wait before the listener connects again.
const listenRetry = 2 * time.Second

// HeadFunc returns the highest position of the change feed.
type HeadFunc func(ctx context.Context) (int64, error)

// Poll calls head every PollInterval until ctx ends and wakes b when the
// head moved.
func Poll(ctx context.Context, b *Broadcaster, head HeadFunc, log *slog.Logger) {
	ticker := time.NewTicker(PollInterval)
	defer ticker.Stop()

	var last int64
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}

		current, err := head(ctx)
		if err != nil {
			if !failing && ctx.Err() == nil {
				log.Warn("change feed poll failed; retrying every poll interval", "error", err)
			}
			failing = true
			continue
		}
		failing = false

		if current != last {
			last = current
			b.Notify()
		}
	}
}

// Listen holds a PostgreSQL connection that LISTENs on channel and wakes b
// for each notification, until ctx ends. It connects again after a failure.
// dataSource is the database URL, which is never logged.
func Listen(ctx context.Context, b *Broadcaster, dataSource, channel string, log *slog.Logger) {
	for ctx.Err() == nil {
		err := listenOnce(ctx, b, dataSource, channel)
		if ctx.Err() != nil {
			return
		}
		log.Warn("change feed LISTEN connection failed; the poll fallback covers the gap", "channel", channel, "error", err)

		select {
		case <-ctx.Done():
			return
		case <-time.After(listenRetry):
		}
	}
}

func listenOnce(ctx context.Context, b *Broadcaster, dataSource, channel string) error {
	conn, err := pgx.Connect(ctx, dataSource)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	// A change may have committed while the connection was down.
	b.Notify()

	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		b.Notify()
	}
}
