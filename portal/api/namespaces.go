package api

import (
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"
)

// namespaceRequest is the body of POST /api/v1/namespaces.
type namespaceRequest struct {
	Name string `json:"name"`
}

// namespaceMemberRequest is the body of POST .../namespaces/{ns}/members.
type namespaceMemberRequest struct {
	Email string `json:"email"`
}

func (h *handlers) createNamespace(c *fiber.Ctx) (int, any, error) {
	var input namespaceRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}
	caller := principalOf(c)
	if caller.operator {
		return failed(forbidden("the operator publishes in its own namespace and owns no other: log in as a user to create a namespace"))
	}

	namespace, err := h.store.CreateNamespace(requestContext(c), caller.user.ID, input.Name)
	if err != nil {
		return failed(err)
	}
	return created(c, "/api/v1/namespaces/"+url.PathEscape(namespace.Name), namespace)
}

func (h *handlers) getNamespace(c *fiber.Ctx) (int, any, error) {
	namespace, err := h.store.GetNamespace(requestContext(c), c.Params("namespace"))
	if err != nil {
		return failed(err)
	}
	return ok(namespace)
}

func (h *handlers) addNamespaceMember(c *fiber.Ctx) (int, any, error) {
	var input namespaceMemberRequest
	if err := decodeJSON(c, &input); err != nil {
		return failed(err)
	}
	namespace, err := h.store.AddNamespaceMember(requestContext(c), publisherOf(c), c.Params("namespace"), input.Email)
	if err != nil {
		return failed(err)
	}
	return http.StatusCreated, namespace, nil
}
