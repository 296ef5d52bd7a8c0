using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NenAi.TestSupport;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Core.Tests.Infrastructure;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>An explicit proxy with credentials: a small forwarding proxy on loopback that demands Basic auth.</summary>
    public class ProxyTests
    {
        [Fact]
        public async Task ExplicitProxyWithCredentialsCarriesTheRequests()
        {
            await using var emu = await TestEmulator.StartAsync();
            await using var proxy = await LoopbackProxy.StartAsync("proxyuser", "proxypass");

            var client = emu.Client(o =>
            {
                o.ProxyMode = ProxyMode.Explicit;
                o.ProxyUri = proxy.Uri;
                o.ProxyCredential = new ProxyCredentials("proxyuser", TestEmulator.Secret("proxypass"));
            });
            var run = await client.StartRunAsync(Requests.Echo());
            var status = await client.GetRunAsync(run.MessageId);

            Assert.Equal(run.MessageId, status.MessageId);
            Assert.True(proxy.Forwarded >= 2, $"forwarded {proxy.Forwarded}");
            Assert.True(proxy.Challenged >= 1, "the proxy's 407 challenge was answered with the credentials");
            Assert.Single(emu.State.Ledger);
        }

        [Fact]
        public async Task AProxyThatRefusesTheTunnelsCredentialsIsOneProxyAuthenticationErrorAtOnce()
        {
            // https goes through a CONNECT tunnel: a 407 to it is an exception, not a response, and it must still read as
            // refused proxy credentials (acceptance: it was a NenNetworkError after 13 tries and 11 s).
            await using var proxy = await LoopbackProxy.StartAsync("proxyuser", "proxypass");
            var options = NenClientOptions.Resolve(baseUrl: "https://nen.invalid/", apiKey: TestEmulator.Secret("k"), environment: _ => null);
            options.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            options.ProxyMode = ProxyMode.Explicit;
            options.ProxyUri = proxy.Uri;
            options.ProxyCredential = new ProxyCredentials("proxyuser", TestEmulator.Secret("wrong"));
            var client = new NenApiClient(options);

            var error = await Assert.ThrowsAnyAsync<NenException>(() => client.GetRunAsync("0b5f1c7e-4c2a-4f4e-9d7b-1a2b3c4d5e6f"));

            Assert.Equal(NenErrorIds.ProxyAuthenticationRequired, error.ErrorId);
            Assert.Equal(NenErrorCategory.AuthenticationError, error.Category);
            Assert.Contains("-ProxyCredential", error.Message);
            Assert.DoesNotContain("wrong", error.Message);
            Assert.InRange(proxy.Challenged, 1, 2);   // one request, not retried: its challenge, then the wrong credentials refused
        }
    }
}
