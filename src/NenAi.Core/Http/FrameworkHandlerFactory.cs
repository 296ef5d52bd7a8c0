using System;
using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using NenAi.Core.Configuration;

namespace NenAi.Core.Http
{
    /// <summary>
    /// The HttpClientHandler the .NET Framework build (Windows PowerShell 5.1) sends with. Built for both editions,
    /// so tests run it; only the .NET Framework build uses it. Every setting is on this handler, never on
    /// ServicePointManager, with two exceptions the framework itself makes and cannot be avoided: the connection limit
    /// and Expect: 100-continue live on the host's ServicePoint (see about_NenAi).
    /// </summary>
    public static class FrameworkHandlerFactory
    {
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
                // Without the SchUseStrongCrypto keys powershell.exe offers no TLS 1.2: ask for it on this handler.
                SslProtocols = tls,
            };
            if (options.SkipCertificateCheck) handler.ServerCertificateCustomValidationCallback = (_, _, _, _) => true;
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
