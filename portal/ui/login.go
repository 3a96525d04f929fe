package ui

import (
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
	T     webContent
	CSRF  string
	Email string
	Error string
}

// language returns the page language of a request: ?lang, then a form's
// lang field, then the language cookie, then Accept-Language. A valid ?lang
// also sets the cookie, so the language switch holds on later pages.
func language(c *fiber.Ctx) string {
	query := c.Query("lang")
	if isLanguage(query) {
		setCookie(c, LanguageCookie, query, languageCookieLifetime)
		return query
	}

	chosen := c.FormValue("lang")
	if !isLanguage(chosen) {
		chosen = c.Cookies(LanguageCookie)
	}
	return chooseLanguage(chosen, c.Get(fiber.HeaderAcceptLanguage))
}

// switchURL returns the path of the current page in the other language.
func switchURL(path string, text webContent) string {
	return path + "?lang=" + url.QueryEscape(text.SwitchLang)
}

func (s *server) loginPage(c *fiber.Ctx) error {
	secret, err := s.loginSecret(c)
	if err != nil {
		return err
	}
	return s.renderLogin(c, http.StatusOK, secret, "", "")
}

func (s *server) renderLogin(c *fiber.Ctx, status int, secret, email, message string) error {
	text := webText[language(c)]
	view := newPage(c, session{secret: secret}, "login.title")
	view.Who = ""
	view.Data = loginView{T: text, CSRF: csrfToken(secret), Email: email, Error: message}
	return renderConsole(c, status, "login", view)
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
	seconds := waitSeconds(wait)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(seconds))
	return s.renderLogin(c, http.StatusTooManyRequests, secret, "", fmt.Sprintf(text.TooManyAttempts, seconds))
}

// waitSeconds rounds a wait up to whole seconds.
func waitSeconds(wait time.Duration) int {
	return int(math.Ceil(wait.Seconds()))
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
	return s.startUserSession(c, user, text)
}

// startUserSession creates a web session for the user and sets its cookie.
func (s *server) startUserSession(c *fiber.Ctx, user store.User, text webContent) error {
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
// browser to the tenant list.
func signedIn(c *fiber.Ctx, secret string, text webContent) error {
	setCookie(c, SessionCookie, secret, sessionLifetime)
	setCookie(c, LoginCookie, "", -1)
	return c.Redirect("/ui/tenants?lang="+url.QueryEscape(text.Lang), http.StatusSeeOther)
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
