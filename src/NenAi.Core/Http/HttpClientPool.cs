using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;
using NenAi.Core.Configuration;

namespace NenAi.Core.Http
{
    /// <summary>
    /// One long-lived HttpClient per (base URL, proxy, connection limit) for the whole process, so
    /// connections are reused across cmdlet calls and batches instead of exhausting sockets.
    /// </summary>
    public static class HttpClientPool
    {
        private static readonly ConcurrentDictionary<string, Lazy<HttpClient>> Clients =
            new ConcurrentDictionary<string, Lazy<HttpClient>>(StringComparer.Ordinal);

        public static HttpClient Get(NenClientOptions options)
        {
            string key = string.Join("|",
                options.BaseUri.GetLeftPart(UriPartial.Authority),
                options.ProxyMode,
                options.ProxyUri?.AbsoluteUri ?? "-",
                options.ProxyCredential?.UserName ?? "-",
                options.MaxConnectionsPerServer);
            return Clients.GetOrAdd(key, _ => new Lazy<HttpClient>(() => Create(options))).Value;
        }

        private static HttpClient Create(NenClientOptions options)
        {
#if NETFRAMEWORK
            // net472 defaults to 2 connections per server; that would serialise a batch.
            var handler = new HttpClientHandler
            {
                MaxConnectionsPerServer = options.MaxConnectionsPerServer,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            };
#else
            var handler = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = options.MaxConnectionsPerServer,
                // Custom headers such as x-api-key would follow a redirect; never follow one.
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(30),
                ConnectCallback = ConnectAsync,
            };
#endif
            switch (options.ProxyMode)
            {
                case ProxyMode.None:
                    handler.UseProxy = false;
                    break;
                case ProxyMode.Explicit when options.ProxyUri != null:
                    handler.UseProxy = true;
                    handler.Proxy = new WebProxy(options.ProxyUri) { Credentials = options.ProxyCredential };
                    break;
                default:
                    handler.UseProxy = true; // the system default proxy
                    break;
            }
            var client = new HttpClient(handler, disposeHandler: true)
            {
                Timeout = System.Threading.Timeout.InfiniteTimeSpan, // per-request timeouts are ours
            };
            client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent.Value);
            return client;
        }

#if !NETFRAMEWORK
        /// <summary>
        /// Connects as the handler would, but marks every failure to connect (refused, unreachable, the connect
        /// timed out or was cancelled) as <see cref="NotConnectedException"/>: nothing of the request left, so it
        /// may be sent again. Without this a connect timeout looks like any other timeout: "maybe sent".
        /// </summary>
        private static async System.Threading.Tasks.ValueTask<System.IO.Stream> ConnectAsync(SocketsHttpConnectionContext context, System.Threading.CancellationToken cancellationToken)
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception ex)
            {
                socket.Dispose();
                throw new NotConnectedException($"could not connect to {context.DnsEndPoint.Host}:{context.DnsEndPoint.Port}", ex);
            }
        }
#endif
    }
}
