package ui

import (
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

// consumerPageSize is the number of consumers on one page of the list.
const consumerPageSize = 100

// consumersData is the data of the consumer list.
type consumersData struct {
	Consumers []config.Consumer
	// Next is the name after which the next page starts, empty on the last.
	Next string
	Form consumerForm
}

type consumerForm struct {
	Name        string
	Description string
	Tags        string
}

func (s *server) consumersPage(c *fiber.Ctx, view pageView) error {
	return s.renderConsumers(c, view, http.StatusOK, consumerForm{})
}

func (s *server) renderConsumers(c *fiber.Ctx, view pageView, status int, form consumerForm) error {
	page := store.Page{After: c.Query("after"), Limit: consumerPageSize}
	consumers, more, err := s.store.ListConsumers(c.UserContext(), view.Tenant, page)
	if err != nil {
		return s.showFailure(c, view, err)
	}

	data := consumersData{Consumers: consumers, Form: form}
	if more && len(consumers) > 0 {
		data.Next = consumers[len(consumers)-1].Name
	}
	view.Data = data
	return renderConsole(c, status, "consumers", view)
}

func (s *server) createConsumer(c *fiber.Ctx, view pageView) error {
	form := consumerForm{Name: strings.TrimSpace(c.FormValue("name")), Description: c.FormValue("description"), Tags: c.FormValue("tags")}
	input := config.Consumer{Name: form.Name, Description: form.Description, Tags: splitTags(form.Tags)}

	consumer, err := s.store.CreateConsumer(c.UserContext(), view.Tenant, input)
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderConsumers(c, view, status, form)
	}

	s.audit(c, view.session, "POST", apiTenantPath(view.Tenant, "consumers", consumer.Name), nil, consumer)
	return seeOther(c, tenantURL(view.Tenant, "consumers", consumer.Name))
}

// splitTags reads tags separated by commas or spaces. No tag gives nil.
func splitTags(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
}

func (s *server) deleteConsumer(c *fiber.Ctx, view pageView) error {
	name := c.Params("name")
	ctx := c.UserContext()

	before, err := s.store.GetConsumer(ctx, view.Tenant, name)
	if err == nil {
		err = s.store.DeleteConsumer(ctx, view.Tenant, name)
	}
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderConsumers(c, view, status, consumerForm{})
	}

	s.audit(c, view.session, "DELETE", apiTenantPath(view.Tenant, "consumers", name), before, nil)
	return seeOther(c, tenantURL(view.Tenant, "consumers"))
}

// consumerData is the data of one consumer's page with its credentials.
type consumerData struct {
	Consumer    config.Consumer
	Credentials []store.Credential
	// Created is the credential just created. Its Key, the generated
	// key-auth key, is failure on this response only.
	Created *store.NewCredential
	Form    credentialForm
}

// credentialForm holds the credential form's values after a failure.
// Secrets are never sent back to the browser.
type credentialForm struct {
	Type     string
	Username string
}

func (s *server) consumerPage(c *fiber.Ctx, view pageView) error {
	return s.renderConsumer(c, view, http.StatusOK, consumerData{})
}

func (s *server) renderConsumer(c *fiber.Ctx, view pageView, status int, data consumerData) error {
	ctx := c.UserContext()
	name := c.Params("name")

	consumer, err := s.store.GetConsumer(ctx, view.Tenant, name)
	if err != nil {
		return s.showFailure(c, view, err)
	}
	credentials, err := s.store.ListCredentials(ctx, view.Tenant, name)
	if err != nil {
		return s.showFailure(c, view, err)
	}

	data.Consumer, data.Credentials = consumer, credentials
	view.Data = data
	return renderConsole(c, status, "consumer", view)
}

// createCredential adds a credential. The response shows a generated key
// once, and no later page can show it again because the store keeps it
// sealed.
func (s *server) createCredential(c *fiber.Ctx, view pageView) error {
	name := c.Params("name")
	input := store.CredentialInput{
		Type:     c.FormValue("type"),
		Key:      strings.TrimSpace(c.FormValue("key")),
		Username: strings.TrimSpace(c.FormValue("username")),
		Password: c.FormValue("password"),
	}

	created, err := s.store.CreateCredential(c.UserContext(), view.Tenant, name, input)
	if err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderConsumer(c, view, status, consumerData{Form: credentialForm{Type: input.Type, Username: input.Username}})
	}

	s.audit(c, view.session, "POST", apiTenantPath(view.Tenant, "consumers", name, "credentials", created.ID), nil, created.Credential)
	return s.renderConsumer(c, view, http.StatusCreated, consumerData{Created: &created})
}

func (s *server) deleteCredential(c *fiber.Ctx, view pageView) error {
	name, id := c.Params("name"), c.Params("id")

	if err := s.store.DeleteCredential(c.UserContext(), view.Tenant, name, id); err != nil {
		failure, status, err := problemOf(c, err)
		if err != nil {
			return err
		}
		view.Error = failure
		return s.renderConsumer(c, view, status, consumerData{})
	}

	s.audit(c, view.session, "DELETE", apiTenantPath(view.Tenant, "consumers", name, "credentials", id), nil, nil)
	return seeOther(c, tenantURL(view.Tenant, "consumers", name))
}
