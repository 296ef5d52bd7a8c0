using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace NenAi.TestSupport
{
    /// <summary>
    /// A small forwarding HTTP proxy on loopback that can demand Basic credentials (answering 407 until it gets them).
    /// It forwards absolute-form requests and refuses CONNECT tunnels (502), so https targets behind it fail the way
    /// a proxy that will not open a tunnel fails.
    /// </summary>
    public sealed class LoopbackProxy : IAsyncDisposable
    {
        private static readonly HttpClient Upstream = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false });
        private readonly WebApplication _app;
        private int _forwarded, _challenged, _tunnels;

        private LoopbackProxy(WebApplication app, Uri uri)
        {
            _app = app;
            Uri = uri;
        }

        public Uri Uri { get; }
        public int Forwarded => Volatile.Read(ref _forwarded);
        /// <summary>407 answers sent for missing or wrong credentials.</summary>
        public int Challenged => Volatile.Read(ref _challenged);
        /// <summary>CONNECT requests refused.</summary>
        public int TunnelsRefused => Volatile.Read(ref _tunnels);

        /// <param name="user">With <paramref name="password"/>: the Basic credentials demanded; null: none demanded.</param>
        public static async Task<LoopbackProxy> StartAsync(string? user = null, string? password = null)
        {
            string? expected = user is null ? null : "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));
            LoopbackProxy? proxy = null;
            var (app, uri) = await LoopbackApp.StartAsync(a => a.Run(ctx => proxy!.HandleAsync(ctx, expected)));
            proxy = new LoopbackProxy(app, uri);
            return proxy;
        }

        private async Task HandleAsync(HttpContext ctx, string? expected)
        {
            if (expected != null && ctx.Request.Headers["Proxy-Authorization"] != expected)
            {
                Interlocked.Increment(ref _challenged);
                ctx.Response.StatusCode = 407;
                ctx.Response.Headers["Proxy-Authenticate"] = "Basic realm=\"test\"";
                return;
            }
            if (HttpMethods.IsConnect(ctx.Request.Method))
            {
                Interlocked.Increment(ref _tunnels);
                ctx.Response.StatusCode = 502;
                return;
            }
            Interlocked.Increment(ref _forwarded);
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
            foreach (var h in ctx.Request.Headers.Where(h => h.Key.StartsWith("x-", StringComparison.OrdinalIgnoreCase) || h.Key == "Idempotency-Key" || h.Key == "User-Agent"))
                request.Headers.TryAddWithoutValidation(h.Key, h.Value.ToArray());
            using var response = await Upstream.SendAsync(request);
            ctx.Response.StatusCode = (int)response.StatusCode;
            foreach (var h in response.Headers) ctx.Response.Headers[h.Key] = h.Value.ToArray();
            ctx.Response.Headers.Remove("Transfer-Encoding");
            await ctx.Response.Body.WriteAsync(await response.Content.ReadAsByteArrayAsync());
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
