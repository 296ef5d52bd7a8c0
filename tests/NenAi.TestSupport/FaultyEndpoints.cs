using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.TestSupport
{
    /// <summary>
    /// Loopback endpoints that fail the way transport code must tell apart from an ambiguous failure: a "TLS" server
    /// that answers the handshake with garbage, and a listener whose connects never complete (a connect timeout).
    /// </summary>
    public sealed class FaultyEndpoint : IDisposable
    {
        private readonly Socket _listener;
        private readonly List<Socket> _held = new List<Socket>();
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        private FaultyEndpoint(Socket listener) => _listener = listener;

        /// <summary>https://127.0.0.1:port/ for <see cref="BrokenTls"/>, http:// for <see cref="Unconnectable"/>.</summary>
        public Uri Uri { get; private set; } = null!;

        private int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        /// <summary>Accepts connections and answers the TLS ClientHello with plain HTTP: the handshake fails.</summary>
        public static FaultyEndpoint BrokenTls()
        {
            var endpoint = new FaultyEndpoint(Listen(backlog: 16));
            endpoint.Uri = new Uri($"https://127.0.0.1:{endpoint.Port}/");
            _ = Task.Run(endpoint.AnswerGarbageAsync);
            return endpoint;
        }

        /// <summary>
        /// Never accepts, and its backlog is filled: a new connect gets no answer at all and can only time out.
        /// </summary>
        public static FaultyEndpoint Unconnectable()
        {
            var endpoint = new FaultyEndpoint(Listen(backlog: 1));
            endpoint.Uri = new Uri($"http://127.0.0.1:{endpoint.Port}/");
            for (int i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                try { filler.Connect(IPAddress.Loopback, endpoint.Port); }
                catch (SocketException) { } // in progress
                endpoint._held.Add(filler);
            }
            return endpoint;
        }

        private static Socket Listen(int backlog)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            socket.Listen(backlog);
            return socket;
        }

        private async Task AnswerGarbageAsync()
        {
            byte[] garbage = Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try { client = await _listener.AcceptAsync(_stop.Token); }
                catch (Exception) { return; }
                _ = Task.Run(async () =>
                {
                    using (client)
                    {
                        try
                        {
                            await client.ReceiveAsync(new byte[4096], SocketFlags.None, _stop.Token);
                            await client.SendAsync(garbage, SocketFlags.None, _stop.Token);
                        }
                        catch (Exception) { }
                    }
                });
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            foreach (Socket s in _held) s.Dispose();
            _listener.Dispose();
            _stop.Dispose();
        }
    }
}
