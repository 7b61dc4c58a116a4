package actors

import (
	"context"
	"log/slog"

	"github.com/rs/zerolog"
)

// slogToZerolog routes protoactor's slog output into the kernel's zerolog
// logger. protoactor logs an attribute named "message" (a dead letter's
// payload), which would collide with zerolog's message field and give
// duplicate JSON keys; it is renamed "payload". (Renaming
// zerolog.MessageFieldName instead would change a global.)
func slogToZerolog(log zerolog.Logger) *slog.Logger {
	if log.GetLevel() == zerolog.Disabled {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(renameMessage{zerolog.NewSlogHandler(log)})
}

type renameMessage struct{ h slog.Handler }

func (r renameMessage) Enabled(ctx context.Context, l slog.Level) bool { return r.h.Enabled(ctx, l) }

func (r renameMessage) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(rename(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r renameMessage) WithAttrs(attrs []slog.Attr) slog.Handler {
	renamed := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		renamed[i] = rename(a)
	}
	return renameMessage{r.h.WithAttrs(renamed)}
}

func (r renameMessage) WithGroup(name string) slog.Handler { return renameMessage{r.h.WithGroup(name)} }

func rename(a slog.Attr) slog.Attr {
	if a.Key == zerolog.MessageFieldName {
		a.Key = "payload"
	}
	return a
}
