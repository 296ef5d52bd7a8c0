using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using NenAi.Core.Configuration;

namespace NenAi.Core.Http
{
    /// <summary>
    /// One long-lived HttpClient per connection setup (server, proxy and its credentials, certificates, connection
    /// limit) for the whole process, so connections are reused across cmdlet calls and batches instead of exhausting
    /// sockets, and a changed setup (a corrected proxy password, say) gets its own.
    /// </summary>
    public static class HttpClientPool
    {
        /// <summary>TLS 1.3 is not named in .NET Framework 4.7.2's enum; its value is the same everywhere.</summary>
        internal const SslProtocols Tls12And13 = SslProtocols.Tls12 | (SslProtocols)12288;

        private static readonly ConcurrentDictionary<string, Lazy<HttpClient>> Clients =
            new ConcurrentDictionary<string, Lazy<HttpClient>>(StringComparer.Ordinal);

        public static HttpClient Get(NenClientOptions options)
        {
            string key = string.Join("|",
                options.BaseUri.GetLeftPart(UriPartial.Authority),
                options.ProxyMode,
                options.ProxyUri?.AbsoluteUri ?? "-",
                options.ProxyCredential?.Fingerprint ?? "-",
                options.ProxyUseDefaultCredentials,
                options.SkipCertificateCheck,
                options.ClientCertificate?.Thumbprint ?? "-",
                options.MaxConnectionsPerServer);
            return Clients.GetOrAdd(key, _ => new Lazy<HttpClient>(() => Create(options))).Value;
        }

        private static HttpClient Create(NenClientOptions options)
        {
            var client = new HttpClient(CreateHandler(options), disposeHandler: true)
            {
                Timeout = System.Threading.Timeout.InfiniteTimeSpan, // per-request timeouts are ours
            };
            client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent.Value);
            return client;
        }

        /// <summary>The handler for <paramref name="options"/>: never follows redirects (headers such as x-api-key would go along).</summary>
        internal static HttpMessageHandler CreateHandler(NenClientOptions options)
        {
#if NETFRAMEWORK
            var handler = new HttpClientHandler
            {
                // net472 defaults to 2 connections per server; that would serialise a batch.
                MaxConnectionsPerServer = options.MaxConnectionsPerServer,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                // Windows PowerShell 5.1 without the SchUseStrongCrypto keys offers no TLS 1.2: ask for it on our own
                // handler, never through the process-wide ServicePointManager.
                SslProtocols = Tls12And13,
            };
            if (options.SkipCertificateCheck) handler.ServerCertificateCustomValidationCallback = (_, _, _, _) => true;
            if (options.ClientCertificate != null)
            {
                handler.ClientCertificateOptions = ClientCertificateOption.Manual;
                handler.ClientCertificates.Add(options.ClientCertificate);
            }
#else
            var handler = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = options.MaxConnectionsPerServer,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectTimeout = TimeSpan.FromSeconds(30),
                ConnectCallback = ConnectAsync,
            };
            if (options.SkipCertificateCheck) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            if (options.ClientCertificate != null)
                handler.SslOptions.ClientCertificates = new System.Security.Cryptography.X509Certificates.X509CertificateCollection { options.ClientCertificate };
#endif
            ICredentials? proxyCredentials = options.ProxyUseDefaultCredentials ? CredentialCache.DefaultCredentials : options.ProxyCredential;
            switch (options.ProxyMode)
            {
                case ProxyMode.None:
                    handler.UseProxy = false;
                    break;
                case ProxyMode.Explicit when options.ProxyUri != null:
                    handler.UseProxy = true;
                    // Credentials alone: WebProxy.UseDefaultCredentials = false would clear them.
                    handler.Proxy = new WebProxy(options.ProxyUri) { Credentials = proxyCredentials };
                    break;
                default:
                    // The system proxy; credentials given without -Proxy are meant for it.
                    handler.UseProxy = true;
                    if (proxyCredentials != null) handler.DefaultProxyCredentials = proxyCredentials;
                    break;
            }
            return handler;
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
