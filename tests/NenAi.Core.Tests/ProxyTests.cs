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
            int forwarded = 0, challenged = 0;
            string expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("proxyuser:proxypass"));
            using var upstream = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });

            var (proxy, proxyUri) = await LoopbackApp.StartAsync(app => app.Run(async ctx =>
            {
                if (ctx.Request.Headers["Proxy-Authorization"] != expected)
                {
                    Interlocked.Increment(ref challenged);
                    ctx.Response.StatusCode = 407;
                    ctx.Response.Headers["Proxy-Authenticate"] = "Basic realm=\"test\"";
                    return;
                }
                Interlocked.Increment(ref forwarded);
                // Absolute-form target: forward to the origin it names.
                var target = new Uri($"http://{ctx.Request.Host}{ctx.Request.Path}{ctx.Request.QueryString}");
                using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.Method), target);
                using var body = new MemoryStream();
                await ctx.Request.Body.CopyToAsync(body);
                if (body.Length > 0)
                {
                    request.Content = new ByteArrayContent(body.ToArray());
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", ctx.Request.ContentType);
                }
                foreach (var h in ctx.Request.Headers.Where(h => h.Key.StartsWith("x-", StringComparison.OrdinalIgnoreCase) || h.Key == "Idempotency-Key"))
                    request.Headers.TryAddWithoutValidation(h.Key, h.Value.ToArray());
                using var response = await upstream.SendAsync(request);
                ctx.Response.StatusCode = (int)response.StatusCode;
                await ctx.Response.Body.WriteAsync(await response.Content.ReadAsByteArrayAsync());
            }));
            await using var _ = proxy;

            var client = emu.Client(o =>
            {
                o.ProxyMode = ProxyMode.Explicit;
                o.ProxyUri = proxyUri;
                o.ProxyCredential = new NetworkCredential("proxyuser", "proxypass");
            });
            var run = await client.StartRunAsync(Requests.Echo());
            var status = await client.GetRunAsync(run.MessageId);

            Assert.Equal(run.MessageId, status.MessageId);
            Assert.True(forwarded >= 2, $"forwarded {forwarded}");
            Assert.True(challenged >= 1, "the proxy's 407 challenge was answered with the credentials");
            Assert.Single(emu.State.Ledger);
        }
    }
}
