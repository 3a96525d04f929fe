package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Keys of values that the middleware keeps in fiber.Ctx.Locals.
const (
	localRequestID = "portcullis.request_id"
	localError     = "portcullis.error"
)

// requestIDPattern limits a client-sent X-Request-ID to what is safe to echo
// in headers and logs.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

func newRequestID() string {
	var random [8]byte
	if _, err := rand.Read(random[:]); err != nil {
		panic(fmt.Sprintf("read random request id: %v", err))
	}
	return hex.EncodeToString(random[:])
}

// assignRequestID keeps a well-formed X-Request-ID from the client or makes
// a new one, and returns it in the response header.
func assignRequestID(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !requestIDPattern.MatchString(id) {
		id = newRequestID()
	}

	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

// logRequests logs one line per request. It logs no header, so the bearer
// token never reaches the log.
func logRequests(logger *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()

		if err := c.Next(); err != nil {
			if writeErr := writeProblem(c, err); writeErr != nil {
				return writeErr
			}
		}

		status := c.Response().StatusCode()
		attrs := []any{
			"request_id", requestID(c),
			"method", c.Method(),
			"path", c.Path(),
			"status", status,
			"duration_ms", time.Since(start).Milliseconds(),
		}
		if tenant := c.Params("slug"); tenant != "" {
			attrs = append(attrs, "tenant", tenant)
		}
		if err, ok := c.Locals(localError).(error); ok {
			attrs = append(attrs, "error", err.Error())
		}

		logger.Log(c.UserContext(), requestLevel(c.Path(), status), "request", attrs...)
		return nil
	}
}

// requestLevel returns the level of a request's line: Error for a 5xx, and
// Debug for the edges' successful sync calls, such as a heartbeat every 2 s
// per edge, which would otherwise fill the log. The rest log at Info.
func requestLevel(path string, status int) slog.Level {
	switch {
	case status >= http.StatusInternalServerError:
		return slog.LevelError
	case strings.HasPrefix(path, "/api/v1/edge/") && status < http.StatusBadRequest:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// operatorCheck returns a function that reports whether a bearer token is
// the operator's. It compares SHA-256 digests in constant time, so neither
// the token's content nor its length shows in the timing.
func operatorCheck(token string) func(sent string) bool {
	want := sha256.Sum256([]byte(token))

	return func(sent string) bool {
		got := sha256.Sum256([]byte(sent))
		return subtle.ConstantTimeCompare(got[:], want[:]) == 1
	}
}
