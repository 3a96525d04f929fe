package ui

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/accounts"
	"portcullis.dev/portal/api"
)

// consoleTemplates are the pages of the signed-in console, which share the
// layout in console.html.
var consoleTemplates = template.Must(template.New("console").
	Funcs(template.FuncMap{"pathEscape": url.PathEscape, "fieldView": newFieldView, "domainView": newDomainView}).
	ParseFS(templates, "templates/console.html", "templates/console_*.html"))

// pageView is the data of every console page. Data holds what the page
// itself shows.
type pageView struct {
	T      catalog
	Switch string
	CSRF   string
	// Path is the page's path without a query, for the forms that post back.
	Path string
	// Who is the operator's word or the user's email. Empty before sign-in.
	Who      string
	Operator bool
	// Title is the catalogue key of the page title.
	Title string
	// Tenant is the slug of a tenant page, and Role the session's role in it.
	Tenant string
	Role   accounts.Role
	Error  *formError
	Data   any

	session session
}

// CanEdit reports whether the session may change the tenant's upstreams,
// routes, bindings and consumers.
func (v pageView) CanEdit() bool { return v.Role.Allows(accounts.RoleDeveloper) }

// CanAudit reports whether the session may read the tenant's audit log.
func (v pageView) CanAudit() bool { return v.Role.Allows(accounts.RoleAdmin) }

// fieldView is the data of one generated config input: the page, for the
// catalogue and the errors, and the field.
type fieldView struct {
	Page  pageView
	Field formField
}

func newFieldView(page pageView, field formField) fieldView {
	return fieldView{Page: page, Field: field}
}

// formError is a failed form's problem, in the page's language.
type formError struct {
	Title  string
	Detail string
	Fields []api.FieldIssue
}

// FieldMessage returns the message of the issue for field, or "".
func (e *formError) FieldMessage(field string) string {
	if e == nil {
		return ""
	}
	for _, issue := range e.Fields {
		if issue.Field == field {
			return issue.Message
		}
	}
	return ""
}

// newPage returns the view of a console page for the session.
func newPage(c *fiber.Ctx, current session, title string) pageView {
	lang := language(c)
	text := webText[lang]
	view := pageView{
		T:        catalogs[lang],
		Switch:   switchLink(c, text),
		CSRF:     csrfToken(current.secret),
		Path:     c.Path(),
		Who:      current.user.Email,
		Operator: current.operator,
		Title:    title,
		session:  current,
	}
	if current.operator {
		view.Who = text.Operator
	}
	return view
}

// switchLink returns the URL of the current page in the other language,
// with the page's other query parameters kept.
func switchLink(c *fiber.Ctx, text webContent) string {
	query := url.Values{}
	c.Request().URI().QueryArgs().VisitAll(func(key, value []byte) {
		query.Add(string(key), string(value))
	})
	query.Set("lang", text.SwitchLang)
	return c.Path() + "?" + query.Encode()
}

// renderConsole executes a console template and sends it as HTML.
func renderConsole(c *fiber.Ctx, status int, name string, view pageView) error {
	var page bytes.Buffer
	if err := consoleTemplates.ExecuteTemplate(&page, name, view); err != nil {
		return fmt.Errorf("render %s in %s: %w", name, view.T.Lang(), err)
	}

	c.Set(fiber.HeaderContentLanguage, view.T.Lang())
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Vary(fiber.HeaderAcceptLanguage, fiber.HeaderCookie)
	c.Type("html", "utf-8")
	return c.Status(status).Send(page.Bytes())
}

// problemOf turns a failed store call into the form error to show, with the
// status of the API's problem. Messages whose fix is an API call get the
// console's wording first (see consoleFixes). It returns the error itself
// for a server fault, which the portal's error handler reports.
func problemOf(c *fiber.Ctx, err error) (*formError, int, error) {
	problem := api.ProblemOf(forConsole(err), language(c) == SimplifiedChinese)
	if problem.Status >= http.StatusInternalServerError {
		return nil, 0, err
	}
	return &formError{Title: problem.Title, Detail: problem.Detail, Fields: problem.Errors}, problem.Status, nil
}

// requireSession returns the session, or redirects to the login page and
// returns false.
func (s *server) requireSession(c *fiber.Ctx) (session, bool, error) {
	current, found, err := s.currentSession(c)
	if err != nil || found {
		return current, found, err
	}
	return session{}, false, c.Redirect("/login", http.StatusSeeOther)
}

// errForbidden ends a request whose session lacks the role it needs.
var errForbidden = errors.New("role too low")

// tenantAccess returns the session's role in the tenant of the path and
// checks it against need. The rules are those of the API's access.go.
// Viewers read, developers change upstreams, routes, bindings, consumers and
// domains, admins read the audit log, and the operator counts as an owner.
// A user outside the tenant gets the tenant's "not found", like the API. A
// POST also needs the session's CSRF token.
func (s *server) tenantAccess(c *fiber.Ctx, current session, need accounts.Role) (accounts.Role, error) {
	if c.Method() == fiber.MethodPost && !checkCSRF(current.secret, c.FormValue(CSRFField)) {
		return "", errCSRF
	}
	if current.operator {
		return accounts.RoleOwner, nil
	}

	role, err := s.store.MemberRole(c.UserContext(), c.Params("slug"), current.user.ID)
	if err != nil {
		return "", err
	}
	if !role.Allows(need) {
		return role, errForbidden
	}
	return role, nil
}

// errCSRF ends a form POST without a valid CSRF token.
var errCSRF = errors.New("csrf token missing or invalid")

// tenantHandler is a tenant page's handler, called after the session and
// role checks.
type tenantHandler func(c *fiber.Ctx, view pageView) error

// tenantPage wraps a tenant page: it requires a session and the role need,
// and fills the view's tenant and role. Its failures render as the page
// "denied", the CSRF text, or the tenant's "not found".
func (s *server) tenantPage(title string, need accounts.Role, next tenantHandler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		current, found, err := s.requireSession(c)
		if err != nil || !found {
			return err
		}

		role, err := s.tenantAccess(c, current, need)
		view := newPage(c, current, title)
		view.Tenant = c.Params("slug")
		view.Role = role
		switch {
		case errors.Is(err, errCSRF):
			return rejectCSRF(c)
		case errors.Is(err, errForbidden):
			view.Data = deniedData{Need: need}
			return renderConsole(c, http.StatusForbidden, "denied", view)
		case err != nil:
			return s.showFailure(c, view, err)
		}
		return next(c, view)
	}
}

// deniedData is the data of the page that shows a member the role that a
// page needs.
type deniedData struct {
	Need accounts.Role
}

// showFailure renders a store error as a page of its own, such as the
// tenant's "not found".
func (s *server) showFailure(c *fiber.Ctx, view pageView, err error) error {
	failure, status, err := problemOf(c, err)
	if err != nil {
		return err
	}
	view.Error = failure
	view.Tenant = ""
	return renderConsole(c, status, "failure", view)
}

// seeOther redirects after a successful form POST.
func seeOther(c *fiber.Ctx, path string) error {
	return c.Redirect(path, http.StatusSeeOther)
}

// tenantURL returns the path of a tenant page below /ui/tenants/{slug}.
func tenantURL(slug string, rest ...string) string {
	path := "/ui/tenants/" + url.PathEscape(slug)
	for _, part := range rest {
		path += "/" + url.PathEscape(part)
	}
	return path
}
