package api

import (
	"context"
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// endpoint is a handler that returns its status and body instead of writing
// them. A nil body sends the status alone.
type endpoint func(c *fiber.Ctx) (status int, body any, err error)

// handle adapts an endpoint to Fiber. It is the one place that writes a
// success response or the problem for an error.
func handle(fn endpoint) fiber.Handler {
	return func(c *fiber.Ctx) error {
		status, body, err := fn(c)
		if err != nil {
			return writeProblem(c, err)
		}

		if body == nil {
			return c.SendStatus(status)
		}
		return c.Status(status).JSON(body)
	}
}

func ok(body any) (int, any, error) {
	return http.StatusOK, body, nil
}

func created(c *fiber.Ctx, location string, body any) (int, any, error) {
	c.Location(location)
	return http.StatusCreated, body, nil
}

func noContent() (int, any, error) {
	return http.StatusNoContent, nil, nil
}

func failed(err error) (int, any, error) {
	return 0, nil, err
}

// requestContext returns the context for store calls.
func requestContext(c *fiber.Ctx) context.Context {
	return c.UserContext()
}
