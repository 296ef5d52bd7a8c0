using System;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace NenAi.TestSupport
{
    /// <summary>
    /// A proxy on loopback that does what a corporate proxy does for https: it opens CONNECT tunnels and relays their
    /// bytes both ways, nothing more, so whatever comes back through a tunnel is the server's (it cannot read or answer
    /// inside the TLS). <see cref="LoopbackProxy"/> refuses tunnels; this one only opens them.
    /// </summary>
    public sealed class LoopbackTunnelProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly Task _accepting;
        private int _tunnels;

        private LoopbackTunnelProxy()
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            Uri = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
            _accepting = AcceptAsync();
        }

        public Uri Uri { get; }
        /// <summary>Tunnels opened.</summary>
        public int Tunnels => Volatile.Read(ref _tunnels);

        public static LoopbackTunnelProxy Start() => new LoopbackTunnelProxy();

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException || ex is ObjectDisposedException || ex is SocketException)
                {
                    return;
                }
                _ = Task.Run(() => ServeAsync(client));
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    NetworkStream stream = client.GetStream();
                    string[] line = (await ReadHeadAsync(stream)).Split("\r\n")[0].Split(' ');
                    if (line.Length < 2 || line[0] != "CONNECT")
                    {
                        await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                        return;
                    }
                    int colon = line[1].LastIndexOf(':');
                    using var upstream = new TcpClient();
                    await upstream.ConnectAsync(line[1].Substring(0, colon), int.Parse(line[1].Substring(colon + 1)));
                    Interlocked.Increment(ref _tunnels);
                    await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\n\r\n"));
                    NetworkStream server = upstream.GetStream();
                    await Task.WhenAny(stream.CopyToAsync(server, _stop.Token), server.CopyToAsync(stream, _stop.Token));
                }
                catch (Exception ex) when (ex is System.IO.IOException || ex is SocketException || ex is OperationCanceledException || ex is ObjectDisposedException)
                {
                    // Either side went away: the tunnel ends with it.
                }
            }
        }

        /// <summary>The request line and headers, read a byte at a time so nothing of the tunnel's own bytes is taken.</summary>
        private static async Task<string> ReadHeadAsync(NetworkStream stream)
        {
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
            {
                if (await stream.ReadAsync(one) == 0) break;
                head.Append((char)one[0]);
            }
            return head.ToString();
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }
    }
}
