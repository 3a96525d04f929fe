package ui

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/store"
)

// Values of the login form's "method" field.
const (
	methodPassword = "password"
	methodOperator = "operator"
)

// loginView is the data of the login page.
type loginView struct {
	T      webContent
	Switch string
	CSRF   string
	Email  string
	Error  string
}

// language returns the page language of a request: ?lang, then a form's
// lang field, then Accept-Language.
func language(c *fiber.Ctx) string {
	query := c.Query("lang")
	if query == "" {
		query = c.FormValue("lang")
	}
	return chooseLanguage(query, c.Get(fiber.HeaderAcceptLanguage))
}

// switchURL returns the path of the current page in the other language.
func switchURL(path string, text webContent) string {
	return path + "?lang=" + url.QueryEscape(text.SwitchLang)
}

func (s *server) loginPage(c *fiber.Ctx) error {
	secret := c.Cookies(LoginCookie)
	if secret == "" {
		created, err := newSecret("")
		if err != nil {
			return err
		}
		secret = created
	}
	// Each visit renews the cookie, so a form kept open for a while still
	// posts a valid token.
	setCookie(c, LoginCookie, secret, time.Hour)

	return s.renderLogin(c, http.StatusOK, secret, "", "")
}

func (s *server) renderLogin(c *fiber.Ctx, status int, secret, email, message string) error {
	text := webText[language(c)]
	view := loginView{T: text, Switch: switchURL("/login", text), CSRF: csrfToken(secret), Email: email, Error: message}
	return render(c, status, "login.html", text.Lang, view)
}

// render executes a web template and sends it as HTML.
func render(c *fiber.Ctx, status int, name, lang string, data any) error {
	var page bytes.Buffer
	if err := webTemplates.ExecuteTemplate(&page, name, data); err != nil {
		return fmt.Errorf("render %s in %s: %w", name, lang, err)
	}

	c.Set(fiber.HeaderContentLanguage, lang)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Vary(fiber.HeaderAcceptLanguage, fiber.HeaderCookie)
	c.Type("html", "utf-8")
	return c.Status(status).Send(page.Bytes())
}

// rejectCSRF responds to a form POST whose CSRF token is missing or wrong.
func rejectCSRF(c *fiber.Ctx) error {
	text := webText[language(c)]
	c.Set(fiber.HeaderContentLanguage, text.Lang)
	c.Type("txt", "utf-8")
	return c.Status(http.StatusForbidden).SendString(text.CSRFRejected)
}

func (s *server) login(c *fiber.Ctx) error {
	secret := c.Cookies(LoginCookie)
	if !checkCSRF(secret, c.FormValue(CSRFField)) {
		return rejectCSRF(c)
	}

	text := webText[language(c)]
	if wait, allowed := allow(s.limits.Address, c.IP()); !allowed {
		return s.tooMany(c, secret, wait, text)
	}

	if c.FormValue("method") == methodOperator {
		return s.loginOperator(c, secret, text)
	}
	return s.loginUser(c, secret, text)
}

// allow takes one attempt from the limiter and returns the wait when none
// is left.
func allow(limiter *accounts.Limiter, key string) (time.Duration, bool) {
	allowed, wait := limiter.Allow(key)
	return wait, allowed
}

func (s *server) tooMany(c *fiber.Ctx, secret string, wait time.Duration, text webContent) error {
	seconds := int(math.Ceil(wait.Seconds()))
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(seconds))
	return s.renderLogin(c, http.StatusTooManyRequests, secret, "", fmt.Sprintf(text.TooManyAttempts, seconds))
}

func (s *server) loginOperator(c *fiber.Ctx, secret string, text webContent) error {
	if !s.isOperator(c.FormValue("token")) {
		s.logger.Info("web sign-in failed", "user", "operator", "request_id", requestID(c))
		return s.renderLogin(c, http.StatusUnauthorized, secret, "", text.WrongToken)
	}

	sessionID, err := newSecret(OperatorSessionPrefix)
	if err != nil {
		return err
	}
	expires := time.Now().UTC().Add(sessionLifetime)
	if err := s.store.CreateOperatorSession(c.UserContext(), accounts.HashToken(sessionID), expires); err != nil {
		return err
	}

	s.logger.Info("web sign-in", "user", "operator", "request_id", requestID(c))
	return signedIn(c, sessionID, text)
}

func (s *server) loginUser(c *fiber.Ctx, secret string, text webContent) error {
	email := accounts.NormalizeEmail(c.FormValue("email"))
	if wait, allowed := allow(s.limits.Email, email); !allowed {
		return s.tooMany(c, secret, wait, text)
	}

	user, ok, err := s.checkPassword(c, email, c.FormValue("password"))
	if err != nil {
		return err
	}
	if !ok {
		return s.renderLogin(c, http.StatusUnauthorized, secret, email, text.WrongPassword)
	}

	token, digest, err := accounts.NewToken(accounts.KindWeb)
	if err != nil {
		return err
	}
	expires := time.Now().UTC().Add(sessionLifetime)
	_, err = s.store.CreateUserToken(c.UserContext(), user.ID, store.NewUserToken{Kind: accounts.KindWeb, Name: "web sign-in", SHA256: digest, ExpiresAt: &expires})
	if err != nil {
		return err
	}

	s.logger.Info("web sign-in", "user", user.ID, "request_id", requestID(c))
	return signedIn(c, token, text)
}

// checkPassword returns the user whose email and password match. An
// unknown email costs as much time as a wrong password.
func (s *server) checkPassword(c *fiber.Ctx, email, password string) (store.User, bool, error) {
	user, hash, err := s.store.UserCredentials(c.UserContext(), email)
	if isNotFound(err) {
		accounts.VerifyNothing(password)
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, err
	}

	err = accounts.VerifyPassword(hash, password)
	if err == accounts.ErrMismatch {
		s.logger.Info("web sign-in failed", "user", user.ID, "request_id", requestID(c))
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, fmt.Errorf("check password of user %q: %w", user.ID, err)
	}
	return user, true, nil
}

// signedIn sets the session cookie, drops the login cookie and sends the
// browser to the propagation page.
func signedIn(c *fiber.Ctx, secret string, text webContent) error {
	setCookie(c, SessionCookie, secret, sessionLifetime)
	setCookie(c, LoginCookie, "", -1)
	return c.Redirect("/ui/propagation?lang="+url.QueryEscape(text.Lang), http.StatusSeeOther)
}

func (s *server) logout(c *fiber.Ctx) error {
	current, found, err := s.currentSession(c)
	if err != nil {
		return err
	}
	if !found || !checkCSRF(current.secret, c.FormValue(CSRFField)) {
		return rejectCSRF(c)
	}

	if err := s.endSession(c, current); err != nil {
		return err
	}

	setCookie(c, SessionCookie, "", -1)
	text := webText[language(c)]
	return c.Redirect("/login?lang="+url.QueryEscape(text.Lang), http.StatusSeeOther)
}

func (s *server) endSession(c *fiber.Ctx, current session) error {
	if current.operator {
		s.logger.Info("web sign-out", "user", "operator", "request_id", requestID(c))
		return s.store.DeleteOperatorSession(c.UserContext(), accounts.HashToken(current.secret))
	}

	s.logger.Info("web sign-out", "user", current.user.ID, "request_id", requestID(c))
	return s.store.DeleteUserToken(c.UserContext(), current.user.ID, current.tokenID)
}

// requestID returns the id that the API's middleware gave the request.
func requestID(c *fiber.Ctx) string {
	return c.GetRespHeader(fiber.HeaderXRequestID)
}
