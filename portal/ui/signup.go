package ui

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// signupData is the data of the sign-up page. The password never goes back
// to the browser.
type signupData struct {
	Email string
	Name  string
}

func (s *server) signupPage(c *fiber.Ctx) error {
	secret, err := s.loginSecret(c)
	if err != nil {
		return err
	}
	return renderSignup(c, http.StatusOK, secret, signupData{}, nil)
}

// loginSecret returns the login cookie's secret, creating it when missing.
// Each visit renews the cookie, so a form kept open for a while still posts
// a valid token.
func (s *server) loginSecret(c *fiber.Ctx) (string, error) {
	secret := c.Cookies(LoginCookie)
	if secret == "" {
		created, err := newSecret("")
		if err != nil {
			return "", err
		}
		secret = created
	}
	setCookie(c, LoginCookie, secret, time.Hour)
	return secret, nil
}

func renderSignup(c *fiber.Ctx, status int, secret string, data signupData, failure *formError) error {
	view := newPage(c, session{secret: secret}, "signup.title")
	view.Who = ""
	view.Data = data
	view.Error = failure
	return renderConsole(c, status, "signup", view)
}

// signup creates an account with the same checks as POST /api/v1/signup,
// then signs the new user in.
func (s *server) signup(c *fiber.Ctx) error {
	secret := c.Cookies(LoginCookie)
	if !checkCSRF(secret, c.FormValue(CSRFField)) {
		return rejectCSRF(c)
	}
	data := signupData{Email: accounts.NormalizeEmail(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name"))}
	password := c.FormValue("password")

	if wait, allowed := allow(s.limits.Address, c.IP()); !allowed {
		seconds := waitSeconds(wait)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(seconds))
		failure := &formError{Detail: fmt.Sprintf(webText[language(c)].TooManyAttempts, seconds)}
		return renderSignup(c, http.StatusTooManyRequests, secret, data, failure)
	}

	user, err := s.createUser(c, data, password)
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		if status == http.StatusConflict {
			// The API's detail points to POST /api/v1/login; a browser
			// user needs the sign-in page instead.
			failure.Detail = catalogs[language(c)].Format("signup.account_exists", data.Email)
		}
		return renderSignup(c, status, secret, data, failure)
	}

	s.logger.Info("user signed up", "request_id", requestID(c), "user", user.ID)
	return s.startUserSession(c, user, webText[language(c)])
}

// createUser checks the fields with the account rules of the API and
// stores the user. Each invalid field is a *config.FieldError.
func (s *server) createUser(c *fiber.Ctx, data signupData, password string) (store.User, error) {
	var issues []error
	if issue := accounts.CheckEmail(data.Email); issue != nil {
		issues = append(issues, issue)
	}
	if issue := accounts.CheckPassword(password); issue != nil {
		issues = append(issues, issue)
	}
	if data.Name == "" || len(data.Name) > accounts.MaxNameBytes {
		issues = append(issues, config.Invalid("name", "name must be 1 to %d bytes after trimming spaces: enter the name to show to other members", accounts.MaxNameBytes))
	}
	if len(issues) > 0 {
		return store.User{}, errors.Join(issues...)
	}

	hash, err := accounts.HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	return s.store.CreateUser(c.UserContext(), store.NewUser{Email: data.Email, Name: data.Name, PasswordHash: hash})
}
