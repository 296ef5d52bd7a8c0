using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Net.Http;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;

namespace NenAi.Core.Http
{
    /// <summary>
    /// The clients of <see cref="HttpClientPool"/>, one per connection setup. A client whose handler cannot be built
    /// (a runtime that refuses a setting, a certificate without its key) becomes one <see cref="NenException"/> and is
    /// forgotten, so it is neither a raw exception nor the answer for the rest of the process.
    /// </summary>
    internal sealed class HttpClientCache
    {
        private readonly ConcurrentDictionary<string, Lazy<HttpClient>> _clients =
            new ConcurrentDictionary<string, Lazy<HttpClient>>(StringComparer.Ordinal);
        private readonly Func<NenClientOptions, HttpMessageHandler> _createHandler;

        public HttpClientCache(Func<NenClientOptions, HttpMessageHandler> createHandler) => _createHandler = createHandler;

        public HttpClient Get(NenClientOptions options)
        {
            string key = Key(options);
            Lazy<HttpClient> client = _clients.GetOrAdd(key, _ => new Lazy<HttpClient>(() => Create(options)));
            try
            {
                return client.Value;
            }
            catch (Exception ex) when (!(ex is NenException))
            {
                // Lazy keeps the exception; only this failed entry goes (a concurrent success stays).
                ((ICollection<KeyValuePair<string, Lazy<HttpClient>>>)_clients).Remove(new KeyValuePair<string, Lazy<HttpClient>>(key, client));
                throw new NenException(NenErrorIds.ConnectionSetupFailed, NenErrorCategory.InvalidOperation,
                    $"The HTTP connection to {options.BaseUri.Host} could not be set up on this system ({ex.GetType().Name}: {ex.Message}). Nothing was sent.", ex);
            }
        }

        private static string Key(NenClientOptions options) => string.Join("|",
            options.BaseUri.GetLeftPart(UriPartial.Authority),
            options.ProxyMode,
            options.ProxyUri?.AbsoluteUri ?? "-",
            options.ProxyCredential?.Fingerprint ?? "-",
            options.ProxyUseDefaultCredentials,
            options.SkipCertificateCheck,
            options.ClientCertificate?.Thumbprint ?? "-",
            options.MaxConnectionsPerServer);

        private HttpClient Create(NenClientOptions options)
        {
            var client = new HttpClient(_createHandler(options), disposeHandler: true)
            {
                Timeout = System.Threading.Timeout.InfiniteTimeSpan, // per-request timeouts are ours
            };
            client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent.Value);
            // Every request goes without "Expect: 100-continue": on .NET Framework a POST would otherwise wait up to
            // 350 ms for a 100 before sending its body, and some proxies answer 417.
            client.DefaultRequestHeaders.ExpectContinue = false;
            return client;
        }
    }
}
