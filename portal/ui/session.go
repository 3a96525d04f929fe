package ui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/api"
	"portcullis.dev/portal/store"
)

// Cookie names. The session cookie contains a web session token. The login
// cookie contains a random value that ties the login forms to their CSRF
// token before a session exists.
const (
	SessionCookie = "portcullis_session"
	LoginCookie   = "portcullis_login"
)

// OperatorSessionPrefix starts the random session id of an operator's web
// session. The id is unrelated to the operator token.
const OperatorSessionPrefix = "pco_"

// CSRFField is the name of the hidden form field with the CSRF token.
const CSRFField = "csrf"

// session is the signed-in web user: the operator, or a user with the
// public id of their web session token.
type session struct {
	operator bool
	user     store.User
	tokenID  string
	// secret is the cookie value, from which the CSRF token derives.
	secret string
}

// newSecret returns prefix followed by 32 random bytes in hex.
func newSecret(prefix string) (string, error) {
	var random [32]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", fmt.Errorf("read random %s secret: %w", prefix, err)
	}
	return prefix + hex.EncodeToString(random[:]), nil
}

// csrfToken derives the CSRF token of a cookie secret. SHA-256 does not
// reveal the 256-bit secret, and a page on another site can neither read
// the cookie nor the token, so only the portal's own forms carry it.
func csrfToken(secret string) string {
	sum := sha256.Sum256([]byte("portcullis csrf\x00" + secret))
	return hex.EncodeToString(sum[:])
}

// checkCSRF reports whether the form's CSRF token matches the secret, in
// constant time. An empty secret never matches.
func checkCSRF(secret, sent string) bool {
	if secret == "" {
		return false
	}
	want := csrfToken(secret)
	return subtle.ConstantTimeCompare([]byte(sent), []byte(want)) == 1
}

// operatorCheck reports whether a token is the operator token, comparing
// SHA-256 digests in constant time like the API does.
func operatorCheck(token string) func(sent string) bool {
	want := sha256.Sum256([]byte(token))

	return func(sent string) bool {
		got := sha256.Sum256([]byte(sent))
		return subtle.ConstantTimeCompare(got[:], want[:]) == 1
	}
}

// currentSession returns the session of the request's cookie, or false
// when there is none or it is unknown or expired.
func (s *server) currentSession(c *fiber.Ctx) (session, bool, error) {
	secret := c.Cookies(SessionCookie)
	ctx := c.UserContext()

	switch {
	case strings.HasPrefix(secret, OperatorSessionPrefix):
		return s.operatorSession(ctx, secret)
	case strings.HasPrefix(secret, accounts.WebSessionPrefix):
		return s.userSession(ctx, secret)
	}
	return session{}, false, nil
}

func (s *server) operatorSession(ctx context.Context, secret string) (session, bool, error) {
	err := s.store.CheckOperatorSession(ctx, accounts.HashToken(secret))
	if isNotFound(err) {
		return session{}, false, nil
	}
	if err != nil {
		return session{}, false, err
	}
	return session{operator: true, secret: secret}, true, nil
}

func (s *server) userSession(ctx context.Context, secret string) (session, bool, error) {
	user, tokenID, err := s.store.AuthenticateWebSession(ctx, accounts.HashToken(secret))
	if isNotFound(err) {
		return session{}, false, nil
	}
	if err != nil {
		return session{}, false, err
	}
	return session{user: user, tokenID: tokenID, secret: secret}, true, nil
}

func isNotFound(err error) bool {
	var notFound *store.NotFoundError
	return errors.As(err, &notFound)
}

// setCookie sets an HttpOnly, SameSite=Lax cookie for the whole site. A
// negative maxAge deletes it. See secureCookie for the Secure attribute.
func setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	seconds := int(maxAge.Seconds())
	if maxAge < 0 {
		seconds = -1
	}
	c.Cookie(&fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   seconds,
		HTTPOnly: true,
		Secure:   secureCookie(c),
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// secureCookie reports whether a cookie gets the Secure attribute. It
// always does, except on a plain HTTP request to a loopback host
// (127.0.0.1, ::1 or localhost), which is how the portal listens by
// default during development.
func secureCookie(c *fiber.Ctx) bool {
	if c.Secure() {
		return true
	}
	return !isLoopbackHost(c.Hostname())
}

func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sessionLifetime is how long a web session stays valid, the same as a
// token from POST /api/v1/login.
const sessionLifetime = api.SessionLifetime
