package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"time"

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

// zerologToSlog is a zerolog logger that writes through log: the kernel
// logs with zerolog everywhere (its vats' loggers too), and a host that
// logs with slog (Config.Slog) gets each line as one slog record, with
// the line's level, message and fields in their order. Its level is the
// lowest log's handler enables, so lines the handler would drop are not
// even built. now stamps the records (the kernel's clock).
func zerologToSlog(log *slog.Logger, now func() time.Time) zerolog.Logger {
	level := zerolog.Disabled
	for _, l := range []struct {
		s slog.Level
		z zerolog.Level
	}{{slog.LevelError, zerolog.ErrorLevel}, {slog.LevelWarn, zerolog.WarnLevel}, {slog.LevelInfo, zerolog.InfoLevel}, {slog.LevelDebug, zerolog.DebugLevel}} {
		if log.Handler().Enabled(context.Background(), l.s) {
			level = l.z
		}
	}
	return zerolog.New(slogWriter{h: log.Handler(), now: now}).Level(level)
}

// slogWriter turns zerolog's JSON lines into slog records.
type slogWriter struct {
	h   slog.Handler
	now func() time.Time
}

// slogLevels maps zerolog's level names onto slog's levels (trace below
// debug, fatal and panic above error, as slog's own spacing of 4 has
// room for).
var slogLevels = map[string]slog.Level{
	"trace": slog.LevelDebug - 4, "debug": slog.LevelDebug, "info": slog.LevelInfo,
	"warn": slog.LevelWarn, "error": slog.LevelError, "fatal": slog.LevelError + 4, "panic": slog.LevelError + 4,
}

// Write implements io.Writer: p is one zerolog line, a JSON object. A line
// that is not one (which zerolog never writes) is passed on as the
// message of an error record rather than lost.
func (w slogWriter) Write(p []byte) (int, error) {
	rec, ok := w.record(p)
	if !ok {
		rec = slog.NewRecord(w.now(), slog.LevelError, string(bytes.TrimSpace(p)), 0)
	}
	if w.h.Enabled(context.Background(), rec.Level) {
		if err := w.h.Handle(context.Background(), rec); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// record parses one zerolog line, keeping its fields' order.
func (w slogWriter) record(p []byte) (slog.Record, bool) {
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return slog.Record{}, false
	}
	level, msg := slog.LevelInfo, ""
	var attrs []slog.Attr
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return slog.Record{}, false
		}
		key, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return slog.Record{}, false
		}
		switch key {
		case zerolog.LevelFieldName:
			if s, ok := v.(string); ok {
				if l, ok := slogLevels[s]; ok {
					level = l
				}
			}
		case zerolog.MessageFieldName:
			msg, _ = v.(string)
		default:
			attrs = append(attrs, slog.Any(key, jsonValue(v)))
		}
	}
	rec := slog.NewRecord(w.now(), level, msg, 0)
	rec.AddAttrs(attrs...)
	return rec, true
}

// jsonValue makes a JSON number an int64 or a float64, as zerolog wrote
// it; everything else is as encoding/json decodes it.
func jsonValue(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return f
}
