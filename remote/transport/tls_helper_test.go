package transport

import (
	"crypto/tls"
	"errors"
	"net"
)

func tlsServer(c net.Conn, cfg *tls.Config) *tls.Conn { return tls.Server(c, cfg) }

func tlsClient(c net.Conn, cfg *tls.Config) *tls.Conn { return tls.Client(c, cfg) }

var errWrongPeer = errors.New("the stream's peer is not the client's key")
