using System;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using NenAi.Core.Configuration;

namespace NenAi.Core.Http
{
    /// <summary>
    /// The HttpClientHandler the .NET Framework build (Windows PowerShell 5.1) sends with. Built for both editions,
    /// so tests run it; only the .NET Framework build uses it. Every setting is on this handler, never on
    /// ServicePointManager, with three exceptions the framework itself makes and cannot be avoided: the connection
    /// limit, Expect: 100-continue and Nagle's algorithm live on the host's ServicePoint (see about_NenAi). Nothing
    /// process-wide is read either: not ServicePointManager.ServerCertificateValidationCallback (the handler has its own),
    /// not a pinned TLS version unless the process default lacks TLS 1.2 (<see cref="TlsProtocolChoice"/>).
    /// </summary>
    public static class FrameworkHandlerFactory
    {
        /// <summary>
        /// The handler as the .NET Framework build sends with it: <see cref="Create"/>, behind <see cref="NoDelayHandler"/>
        /// for the ServicePoint each request uses (<see cref="ServicePointProxy"/>).
        /// </summary>
        public static HttpMessageHandler CreatePipeline(NenClientOptions options, SslProtocols tls, Func<IWebProxy?> systemProxy)
        {
            HttpClientHandler handler = Create(options, tls, systemProxy);
            IWebProxy? proxy = ServicePointProxy(handler, systemProxy);
#pragma warning disable SYSLIB0014 // ServicePointManager: where .NET Framework keeps the setting
            return new NoDelayHandler(handler, address => ServicePointManager.FindServicePoint(address, proxy).UseNagleAlgorithm = false);
#pragma warning restore SYSLIB0014
        }

        /// <summary>
        /// The proxy whose ServicePoint a request of <paramref name="handler"/> uses on .NET Framework: none when the
        /// handler goes direct, its own proxy when it has one, else the process's default proxy (HttpClientHandler leaves
        /// HttpWebRequest.Proxy at WebRequest.DefaultWebProxy); ServicePointManager.FindServicePoint(address, proxy) then
        /// picks the proxy's ServicePoint, or the host's when the proxy bypasses the address, as HttpWebRequest does.
        /// </summary>
        public static IWebProxy? ServicePointProxy(HttpClientHandler handler, Func<IWebProxy?> systemProxy) =>
            !handler.UseProxy ? null : handler.Proxy ?? systemProxy();

        /// <summary>
        /// The handler's own check of the server's certificate, set on every handler: a request's own callback takes
        /// priority over ServicePointManager.ServerCertificateValidationCallback and the legacy CertificatePolicy
        /// (ServicePoint.cs 1061-1070; HttpClientHandler.cs 508-511 makes the handler's the request's), so the process-wide
        /// one that a 5.1 script often sets (a scriptblock, which on a thread-pool thread throws "There is no Runspace
        /// available") is never consulted. This one is the system's own verdict, what .NET Framework decides with no
        /// callback at all (ServicePoint.cs 1102-1103): the chain and the name were accepted.
        /// </summary>
        public static bool SystemValidation(HttpRequestMessage request, X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors) =>
            errors == SslPolicyErrors.None;

        /// <summary>-SkipCertificateCheck: any certificate (the cmdlets warn once per command).</summary>
        public static bool AcceptAny(HttpRequestMessage request, X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors) => true;

        /// <param name="tls">From <see cref="TlsProtocolChoice"/>.</param>
        /// <param name="systemProxy">Reads the process's default proxy (WebRequest.DefaultWebProxy on .NET Framework).</param>
        public static HttpClientHandler Create(NenClientOptions options, SslProtocols tls, Func<IWebProxy?> systemProxy)
        {
            var handler = new HttpClientHandler
            {
                // .NET Framework defaults to 2 connections per server; that would serialise a batch. The framework
                // sets this on the host's ServicePoint, where it applies to each connection group (ours are our own).
                MaxConnectionsPerServer = options.MaxConnectionsPerServer,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
                // None unless the process default lacks TLS 1.2 (TlsProtocolChoice): then the system chooses.
                SslProtocols = tls,
                ServerCertificateCustomValidationCallback = options.SkipCertificateCheck ? AcceptAny : SystemValidation,
            };
            if (options.ClientCertificate != null)
            {
                handler.ClientCertificateOptions = ClientCertificateOption.Manual;
                handler.ClientCertificates.Add(options.ClientCertificate);
            }
            ProxyChoice proxy = ProxyChoice.For(options, systemProxy);
            handler.UseProxy = proxy.UseProxy;
            if (proxy.Proxy != null) handler.Proxy = proxy.Proxy;
            return handler;
        }
    }
}
