package api

import (
	"net/url"

	"github.com/gofiber/fiber/v2"

	"portcullis.dev/portal/store"
	"portcullis.dev/tenants/config"
)

func (h *handlers) registerConsumers(v1 fiber.Router) {
	v1.Get("/tenants/:slug/consumers", handle(h.listConsumers))
	v1.Post("/tenants/:slug/consumers", handle(h.createConsumer))
	v1.Get("/tenants/:slug/consumers/:name", handle(h.getConsumer))
	v1.Put("/tenants/:slug/consumers/:name", handle(h.updateConsumer))
	v1.Delete("/tenants/:slug/consumers/:name", handle(h.deleteConsumer))

	v1.Get("/tenants/:slug/consumers/:name/credentials", handle(h.listCredentials))
	v1.Post("/tenants/:slug/consumers/:name/credentials", handle(h.createCredential))
	v1.Delete("/tenants/:slug/consumers/:name/credentials/:id", handle(h.deleteCredential))
}

func consumerPath(slug, name string) string {
	return tenantPath(slug) + "/consumers/" + url.PathEscape(name)
}

// listConsumers returns one page of consumers: ?limit= and ?after= as
// listPage reads them. ?name= keeps the consumers whose name contains it,
// and ?tag= keeps those with exactly this tag.
func (h *handlers) listConsumers(c *fiber.Ctx) (int, any, error) {
	page, err := listPage(c)
	if err != nil {
		return failed(err)
	}
	filter := store.ConsumerFilter{NameContains: c.Query("name"), Tag: c.Query("tag")}
	if len(filter.NameContains) > config.MaxNameLength {
		return failed(config.Invalid("name", "name filter is %d bytes long: use at most %d", len(filter.NameContains), config.MaxNameLength))
	}
	if len(filter.Tag) > config.MaxNameLength {
		return failed(config.Invalid("tag", "tag filter is %d bytes long: use at most %d", len(filter.Tag), config.MaxNameLength))
	}

	consumers, more, err := h.store.ListConsumerPage(requestContext(c), c.Params("slug"), page, filter)
	if err != nil {
		return failed(err)
	}
	if len(consumers) > 0 {
		filters := map[string]string{"name": filter.NameContains, "tag": filter.Tag}
		setNextLink(c, page, more, consumers[len(consumers)-1].Name, filters)
	}
	return ok(consumers)
}

func (h *handlers) createConsumer(c *fiber.Ctx) (int, any, error) {
	var input config.Consumer
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	slug := c.Params("slug")
	consumer, err := h.store.CreateConsumer(requestContext(c), slug, input)
	if err != nil {
		return failed(err)
	}
	return created(c, consumerPath(slug, consumer.Name), consumer)
}

func (h *handlers) getConsumer(c *fiber.Ctx) (int, any, error) {
	consumer, err := h.store.GetConsumer(requestContext(c), c.Params("slug"), c.Params("name"))
	if err != nil {
		return failed(err)
	}
	return ok(consumer)
}

func (h *handlers) updateConsumer(c *fiber.Ctx) (int, any, error) {
	var input config.Consumer
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	consumer, err := h.store.UpdateConsumer(requestContext(c), c.Params("slug"), c.Params("name"), input)
	if err != nil {
		return failed(err)
	}
	return ok(consumer)
}

func (h *handlers) deleteConsumer(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeleteConsumer(requestContext(c), c.Params("slug"), c.Params("name")); err != nil {
		return failed(err)
	}
	return noContent()
}

func (h *handlers) listCredentials(c *fiber.Ctx) (int, any, error) {
	credentials, err := h.store.ListCredentials(requestContext(c), c.Params("slug"), c.Params("name"))
	if err != nil {
		return failed(err)
	}
	return ok(credentials)
}

// createCredential returns the credential without its secret. Only a key
// that the portal generated is in the response, and only this once.
func (h *handlers) createCredential(c *fiber.Ctx) (int, any, error) {
	var input store.CredentialInput
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}

	slug, consumer := c.Params("slug"), c.Params("name")
	credential, err := h.store.CreateCredential(requestContext(c), slug, consumer, input)
	if err != nil {
		return failed(err)
	}
	return created(c, consumerPath(slug, consumer)+"/credentials/"+url.PathEscape(credential.ID), credential)
}

func (h *handlers) deleteCredential(c *fiber.Ctx) (int, any, error) {
	if err := h.store.DeleteCredential(requestContext(c), c.Params("slug"), c.Params("name"), c.Params("id")); err != nil {
		return failed(err)
	}
	return noContent()
}
