using System;
using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;

namespace NenAi.Core.Http
{
    /// <summary>
    /// One long-lived HttpClient per connection setup (server, proxy and its credentials, certificates, connection
    /// limit) for the whole process, so connections are reused across cmdlet calls and batches instead of exhausting
    /// sockets, and a changed setup (a corrected proxy password, say) gets its own. A setup that cannot be built on
    /// this system is a <see cref="NenException"/> and is not remembered: the next command tries again.
    /// </summary>
    public static class HttpClientPool
    {
        /// <summary>How long a connection may serve requests before a new one (and a fresh DNS answer) is used.</summary>
        public static readonly TimeSpan ConnectionLease = TimeSpan.FromMinutes(5);

        private static readonly HttpClientCache Shared = new HttpClientCache(CreateHandler);

        public static HttpClient Get(NenClientOptions options) => Shared.Get(options);

        /// <summary>The handler for <paramref name="options"/>: never follows redirects (headers such as x-api-key would go along).</summary>
        internal static HttpMessageHandler CreateHandler(NenClientOptions options)
        {
#if NETFRAMEWORK
            // The TLS choice is read again for each handler: a script that sets SecurityProtocol later is heard at the next lease.
            return new RenewingHandler(() => FrameworkHandlerFactory.CreatePipeline(options, TlsProtocolChoice.ForThisProcess(), () => WebRequest.DefaultWebProxy), ConnectionLease);
#else
            var handler = new SocketsHttpHandler
            {
                MaxConnectionsPerServer = options.MaxConnectionsPerServer,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                PooledConnectionLifetime = ConnectionLease,
                ConnectTimeout = TimeSpan.FromSeconds(30),
                ConnectCallback = ConnectAsync,
            };
            if (options.SkipCertificateCheck) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
            if (options.ClientCertificate != null)
                handler.SslOptions.ClientCertificates = new System.Security.Cryptography.X509Certificates.X509CertificateCollection { options.ClientCertificate };
            ProxyChoice proxy = ProxyChoice.For(options, () => HttpClient.DefaultProxy);
            handler.UseProxy = proxy.UseProxy;
            if (proxy.Proxy != null) handler.Proxy = proxy.Proxy;
            return handler;
#endif
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
