package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
)

// namespacesData is the data of the publisher namespace page.
type namespacesData struct {
	Namespaces []namespaceBlock
	// Name is the create form's value after a failure.
	Name string
	// OperatorNamespace is store.OperatorNamespace, for the operator's note.
	OperatorNamespace string
}

// namespaceBlock is one namespace with its published plugins.
type namespaceBlock struct {
	Name    string
	Members int
	Plugins []pluginCard
}

func (s *server) namespacesPage(c *fiber.Ctx) error {
	current, found, err := s.requireSession(c)
	if err != nil || !found {
		return err
	}
	return s.renderNamespaces(c, current, http.StatusOK, namespacesData{}, nil)
}

// renderNamespaces shows the user's namespaces, or the operator's own
// namespace store.OperatorNamespace, each with its plugins and versions
// latest first.
func (s *server) renderNamespaces(c *fiber.Ctx, current session, status int, data namespacesData, failure *formError) error {
	ctx := c.UserContext()

	namespaces := []store.Namespace{{Name: store.OperatorNamespace}}
	if !current.operator {
		var err error
		if namespaces, err = s.store.ListUserNamespaces(ctx, current.user.ID); err != nil {
			return err
		}
	}

	for _, namespace := range namespaces {
		plugins, err := s.store.ListNamespacePlugins(ctx, namespace.Name)
		if err != nil {
			return err
		}
		block := namespaceBlock{Name: namespace.Name, Members: len(namespace.Members)}
		for _, plugin := range plugins {
			card := pluginCard{Name: plugin.Name, Versions: slices.Clone(plugin.Versions)}
			slices.Reverse(card.Versions)
			block.Plugins = append(block.Plugins, card)
		}
		data.Namespaces = append(data.Namespaces, block)
	}

	view := newPage(c, current, "namespaces.title")
	data.OperatorNamespace = store.OperatorNamespace
	view.Data = data
	view.Error = failure
	return renderConsole(c, status, "namespaces", view)
}

// createNamespace creates a namespace like POST /api/v1/namespaces, with
// the signed-in user as its owner. The operator owns no namespace but
// store.OperatorNamespace, so the page offers the operator no form.
func (s *server) createNamespace(c *fiber.Ctx) error {
	current, found, err := s.requireSession(c)
	if err != nil || !found {
		return err
	}
	if !checkCSRF(current.secret, c.FormValue(CSRFField)) {
		return rejectCSRF(c)
	}
	if current.operator {
		view := newPage(c, current, "namespaces.title")
		view.Data = namespacesData{OperatorNamespace: store.OperatorNamespace}
		return renderConsole(c, http.StatusForbidden, "namespaces_operator", view)
	}

	name := strings.TrimSpace(c.FormValue("name"))
	namespace, err := s.store.CreateNamespace(c.UserContext(), current.user.ID, name)
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		return s.renderNamespaces(c, current, status, namespacesData{Name: name}, failure)
	}

	s.audit(c, current, "POST", "/api/v1/namespaces/"+url.PathEscape(namespace.Name), nil, namespace)
	return seeOther(c, "/ui/namespaces")
}
