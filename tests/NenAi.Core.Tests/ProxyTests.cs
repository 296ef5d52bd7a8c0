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
    }
}
