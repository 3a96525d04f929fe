package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// Login limits. Each email may try LoginBurstPerEmail logins at once and
// one more each LoginIntervalPerEmail. Each client address may send
// LoginBurstPerAddress sign-ups and logins at once and one more each
// LoginIntervalPerAddress.
const (
	LoginBurstPerEmail      = 5
	LoginIntervalPerEmail   = time.Minute
	LoginBurstPerAddress    = 20
	LoginIntervalPerAddress = 15 * time.Second
	// maxLimiterKeys bounds the memory of each limiter.
	maxLimiterKeys = 100_000
)

// SessionLifetime is how long a token from POST /api/v1/login stays valid.
const SessionLifetime = 12 * time.Hour

// MaxTokenDays is the longest lifetime of a personal API token in days.
const MaxTokenDays = 3650

// LoginLimits are the in-memory limits on sign-ups and logins of one
// portal process. The API and the web sign-in share them, so a client
// cannot double its attempts by switching between the two.
type LoginLimits struct {
	// Email limits logins per normalized email address.
	Email *accounts.Limiter
	// Address limits sign-ups and logins per client address.
	Address *accounts.Limiter
}

// NewLoginLimits returns empty limits with the LoginBurst* and
// LoginInterval* settings.
func NewLoginLimits() *LoginLimits {
	return &LoginLimits{
		Email:   accounts.NewLimiter(LoginBurstPerEmail, LoginIntervalPerEmail, maxLimiterKeys),
		Address: accounts.NewLimiter(LoginBurstPerAddress, LoginIntervalPerAddress, maxLimiterKeys),
	}
}

// signupRequest is the body of POST /api/v1/signup.
type signupRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// loginRequest is the body of POST /api/v1/login.
type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// createTokenRequest is the body of POST /api/v1/tokens.
type createTokenRequest struct {
	Name string `json:"name"`
	// ExpiresInDays is optional: 0 or absent means the token never expires.
	ExpiresInDays int `json:"expires_in_days"`
}

// createdToken is a new token with its secret, shown only in this response.
type createdToken struct {
	store.UserToken
	Token string `json:"token"`
}

// registerAccounts adds sign-up and login, which need no token, before the
// /api/v1 group whose middleware would demand one.
func (h *handlers) registerAccounts(app *fiber.App) {
	app.Post("/api/v1/signup", h.recordChange, handle(h.signup))
	app.Post("/api/v1/login", h.recordChange, handle(h.login))
}

// registerTokens adds the endpoints of the caller's own account.
func (h *handlers) registerTokens(v1 fiber.Router) {
	v1.Get("/me", handle(h.me))
	v1.Get("/tokens", handle(h.listTokens))
	v1.Post("/tokens", handle(h.createToken))
	v1.Get("/tokens/:id", handle(h.getToken))
	v1.Delete("/tokens/:id", handle(h.deleteToken))
}

// limitRate takes one attempt from the limiter for key. When none is left
// it sets Retry-After and returns a 429 problem.
func limitRate(c *fiber.Ctx, limiter *accounts.Limiter, key, what string) error {
	allowed, wait := limiter.Allow(key)
	if allowed {
		return nil
	}

	seconds := int(math.Ceil(wait.Seconds()))
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(seconds))
	return newProblem(http.StatusTooManyRequests, "too-many-requests", "Too many requests",
		fmt.Sprintf("too many attempts from this %s: wait %d seconds (see Retry-After) and try again", what, seconds))
}

func (h *handlers) signup(c *fiber.Ctx) (int, any, error) {
	if err := limitRate(c, h.limits.Address, c.IP(), "client address"); err != nil {
		return failed(err)
	}

	var input signupRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}
	email := accounts.NormalizeEmail(input.Email)
	name := strings.TrimSpace(input.Name)
	if err := checkSignup(email, input.Password, name); err != nil {
		return failed(err)
	}

	hash, err := accounts.HashPassword(input.Password)
	if err != nil {
		return failed(err)
	}
	user, err := h.store.CreateUser(requestContext(c), store.NewUser{Email: email, Name: name, PasswordHash: hash})
	if err != nil {
		return failed(err)
	}

	c.Locals(localPrincipal, principal{user: user})
	h.logger.Info("user signed up", "request_id", requestID(c), "user", user.ID)
	return created(c, "/api/v1/me", user)
}

// checkSignup returns the field errors of a sign-up joined into one error,
// or nil.
func checkSignup(email, password, name string) error {
	var issues []error
	if issue := accounts.CheckEmail(email); issue != nil {
		issues = append(issues, issue)
	}
	if issue := accounts.CheckPassword(password); issue != nil {
		issues = append(issues, issue)
	}
	if name == "" || len(name) > accounts.MaxNameBytes {
		issues = append(issues, config.Invalid("name", "name must be 1 to %d bytes after trimming spaces: send the name to show to other members", accounts.MaxNameBytes))
	}
	return errors.Join(issues...)
}

func (h *handlers) login(c *fiber.Ctx) (int, any, error) {
	if err := limitRate(c, h.limits.Address, c.IP(), "client address"); err != nil {
		return failed(err)
	}

	var input loginRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}
	email := accounts.NormalizeEmail(input.Email)
	if err := limitRate(c, h.limits.Email, email, "email"); err != nil {
		return failed(err)
	}

	user, err := h.checkCredentials(c, email, input.Password)
	if err != nil {
		return failed(err)
	}

	expires := time.Now().UTC().Add(SessionLifetime)
	token, view, err := h.issueToken(c, user, accounts.KindSession, "login", &expires)
	if err != nil {
		return failed(err)
	}

	c.Locals(localPrincipal, principal{user: user, tokenID: view.ID})
	h.logger.Info("user logged in", "request_id", requestID(c), "user", user.ID)
	return ok(map[string]any{"token": token, "token_id": view.ID, "expires_at": expires, "user": user})
}

// checkCredentials returns the user whose email and password match. An
// unknown email costs as much time as a wrong password, and both get the
// same response, so a login does not reveal which emails have accounts.
func (h *handlers) checkCredentials(c *fiber.Ctx, email, password string) (store.User, error) {
	wrong := unauthorized("wrong email or password: check both, or sign up with POST /api/v1/signup")

	user, hash, err := h.store.UserCredentials(requestContext(c), email)
	if isNotFoundErr(err) {
		accounts.VerifyNothing(password)
		return store.User{}, wrong
	}
	if err != nil {
		return store.User{}, err
	}

	err = accounts.VerifyPassword(hash, password)
	if err == accounts.ErrMismatch {
		h.logger.Info("login failed", "request_id", requestID(c), "user", user.ID)
		return store.User{}, wrong
	}
	if err != nil {
		return store.User{}, fmt.Errorf("check password of user %q: %w", user.ID, err)
	}
	return user, nil
}

// issueToken creates a token for the user and returns it with its view.
func (h *handlers) issueToken(c *fiber.Ctx, user store.User, kind, name string, expires *time.Time) (string, store.UserToken, error) {
	token, digest, err := accounts.NewToken(kind)
	if err != nil {
		return "", store.UserToken{}, err
	}
	view, err := h.store.CreateUserToken(requestContext(c), user.ID, store.NewUserToken{Kind: kind, Name: name, SHA256: digest, ExpiresAt: expires})
	if err != nil {
		return "", store.UserToken{}, err
	}
	return token, view, nil
}

func (h *handlers) me(c *fiber.Ctx) (int, any, error) {
	return ok(principalOf(c).user)
}

func (h *handlers) listTokens(c *fiber.Ctx) (int, any, error) {
	tokens, err := h.store.ListUserTokens(requestContext(c), principalOf(c).user.ID)
	if err != nil {
		return failed(err)
	}
	return ok(tokens)
}

func (h *handlers) createToken(c *fiber.Ctx) (int, any, error) {
	var input createTokenRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}
	name := strings.TrimSpace(input.Name)
	if err := checkTokenRequest(name, input.ExpiresInDays); err != nil {
		return failed(err)
	}

	var expires *time.Time
	if input.ExpiresInDays > 0 {
		at := time.Now().UTC().AddDate(0, 0, input.ExpiresInDays)
		expires = &at
	}
	token, view, err := h.issueToken(c, principalOf(c).user, accounts.KindPersonal, name, expires)
	if err != nil {
		return failed(err)
	}
	return created(c, "/api/v1/tokens/"+url.PathEscape(view.ID), createdToken{UserToken: view, Token: token})
}

// checkTokenRequest returns the field errors of a token request joined
// into one error, or nil.
func checkTokenRequest(name string, days int) error {
	var issues []error
	if name == "" || len(name) > accounts.MaxNameBytes {
		issues = append(issues, config.Invalid("name", "name must be 1 to %d bytes after trimming spaces: say where the token is used, such as \"ci\"", accounts.MaxNameBytes))
	}
	if days < 0 || days > MaxTokenDays {
		issues = append(issues, config.Invalid("expires_in_days", "expires_in_days is %d: send 1 to %d, or 0 for a token that does not expire", days, MaxTokenDays))
	}
	return errors.Join(issues...)
}

func (h *handlers) getToken(c *fiber.Ctx) (int, any, error) {
	token, err := h.store.GetUserToken(requestContext(c), principalOf(c).user.ID, c.Params("id"))
	if err != nil {
		return failed(err)
	}
	return ok(token)
}

func (h *handlers) deleteToken(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeleteUserToken(requestContext(c), principalOf(c).user.ID, c.Params("id")); err != nil {
		return failed(err)
	}
	return noContent()
}
