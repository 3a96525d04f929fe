package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"portcullis.dev/portal/store/migrations"
)

// PostgreSQL pool limits: at most maxPostgresConns connections, each closed
// after postgresConnLifetime so that a failover or DNS change takes effect.
const (
	maxPostgresConns     = 16
	postgresConnLifetime = 30 * time.Minute
)

// openPostgres opens one pool on the PostgreSQL database at dataSource and
// migrates its schema. Messages name the host and database, never the
// password.
func openPostgres(ctx context.Context, dataSource string, log *slog.Logger) (pools, error) {
	db, err := connectPostgres(ctx, dataSource, pingHint)
	if err != nil {
		return pools{}, err
	}

	sqlDB, err := db.DB()
	if err != nil {
		closePool(db)
		return pools{}, fmt.Errorf("open postgres database %q: %w", RedactURL(dataSource), err)
	}
	if err := migrations.Up(ctx, sqlDB, migrations.Postgres, log); err != nil {
		closePool(db)
		return pools{}, err
	}
	return pools{writer: db, reader: db, dialect: migrations.Postgres}, nil
}

// connectPostgres opens one pool on the PostgreSQL database at dataSource
// and checks that the server accepts a connection. hint returns what to do
// about a failed connection, appended to the error. The options change how
// each connection of the pool is set up.
func connectPostgres(ctx context.Context, dataSource string, hint func(error) string, options ...stdlib.OptionOpenDB) (*gorm.DB, error) {
	name := RedactURL(dataSource)

	db, err := gorm.Open(postgres.New(postgres.Config{DSN: dataSource, OptionOpenDB: options}), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("open postgres database %q: %w%s", name, err, hint(err))
	}

	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open postgres database %q: %w", name, err)
	}
	sqlDB.SetMaxOpenConns(maxPostgresConns)
	sqlDB.SetMaxIdleConns(maxPostgresConns)
	sqlDB.SetConnMaxLifetime(postgresConnLifetime)

	if err := sqlDB.PingContext(ctx); err != nil {
		closePool(db)
		return nil, fmt.Errorf("open postgres database %q: %w%s", name, err, hint(err))
	}
	return db, nil
}

// RedactURL returns the URL with its password replaced by "xxxxx", for logs
// and messages. A value that does not parse returns "(unparsable URL)".
func RedactURL(raw string) string {
	parsed, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return parsed.Redacted()
}

// pingHint returns what to do about a failed first connection of a
// portal, which creates its schema in an empty database, when the server
// gave the reason, and "" otherwise.
func pingHint(err error) string {
	if IsMissingDatabase(err) {
		return ": create the database first (createdb NAME, or CREATE DATABASE), or name another in --db"
	}
	return credentialsHint(err)
}

// IsMissingDatabase reports whether err is PostgreSQL's error for a
// connection to a database that does not exist.
func IsMissingDatabase(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "3D000"
}

// credentialsHint returns what to do about a failed first connection that
// the server refused for its user or password, and "" otherwise.
func credentialsHint(err error) string {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return ""
	}
	switch pgErr.Code {
	case "28P01", "28000":
		return ": check the user and password in --db or in the PGPASSWORD and PGUSER variables"
	}
	return ""
}
