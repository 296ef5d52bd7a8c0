using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Security.Authentication;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>
    /// The connection decisions of the .NET Framework build (Windows PowerShell 5.1), which cannot run here: factored out
    /// of #if NETFRAMEWORK and run over the cases Windows Server has (TLS per runtime and OS build, a client that cannot
    /// be built, Expect: 100-continue, proxy credentials of its own, a connection lease).
    /// </summary>
    public class FrameworkConnectionTests
    {
        private static NenClientOptions Options(Action<NenClientOptions>? configure = null)
        {
            var options = NenClientOptions.Resolve("https://api.example.test", TestEmulator.Secret("k"), environment: _ => null);
            configure?.Invoke(options);
            return options;
        }

        [Theory]
        // .NET Framework 4.7.2 (no Tls13 in its enum) on Server 2016, 2019, 2022, Windows 11.
        [InlineData(false, 14393, SslProtocols.Tls12)]
        [InlineData(false, 17763, SslProtocols.Tls12)]
        [InlineData(false, 20348, SslProtocols.Tls12)]
        [InlineData(false, 22631, SslProtocols.Tls12)]
        // .NET Framework 4.8 on the same: TLS 1.3 only where SChannel has it (Server 2022 / Windows 11 and later).
        [InlineData(true, 14393, SslProtocols.Tls12)]
        [InlineData(true, 17763, SslProtocols.Tls12)]
        [InlineData(true, 19045, SslProtocols.Tls12)] // Windows 10 22H2: TLS 1.3 only as an unsupported experiment
        [InlineData(true, 20348, SslProtocols.Tls12 | SslProtocols.Tls13)]
        [InlineData(true, 22000, SslProtocols.Tls12 | SslProtocols.Tls13)]
        [InlineData(true, 26100, SslProtocols.Tls12 | SslProtocols.Tls13)]
        // A process told 6.2.9200 (no Windows 10 manifest) keeps TLS 1.2; so does a platform that is not Windows.
        [InlineData(true, 9200, SslProtocols.Tls12)]
        [InlineData(true, null, SslProtocols.Tls12)]
        public void TlsThirteenIsAskedForOnlyWhereTheRuntimeNamesItAndTheOsHasIt(bool runtimeNamesTls13, int? windowsBuild, SslProtocols expected)
        {
            Assert.Equal(expected, TlsProtocolChoice.For(runtimeNamesTls13, windowsBuild));
        }

        [Fact]
        public void TheOsBuildIsReadOnlyFromWindows()
        {
            Assert.Equal(17763, TlsProtocolChoice.WindowsBuild(new OperatingSystem(PlatformID.Win32NT, new Version(10, 0, 17763, 0))));
            Assert.Null(TlsProtocolChoice.WindowsBuild(new OperatingSystem(PlatformID.Unix, new Version(6, 8, 0))));
            Assert.True(TlsProtocolChoice.RuntimeNamesTls13); // .NET 10 names it; 4.7.2's enum does not (reference source SslEnumTypes.cs)
        }

        [Fact]
        public void AClientThatCannotBeBuiltIsOneNenExceptionAndIsNotRemembered()
        {
            int attempts = 0;
            var cache = new HttpClientCache(_ =>
            {
                // What .NET Framework 4.7.2's HttpClientHandler.SslProtocols setter throws for 12288.
                if (++attempts == 1) throw new NotSupportedException("The requested security protocol is not supported.");
                return new HttpClientHandler();
            });

            NenException first = Assert.Throws<NenException>(() => cache.Get(Options()));
            HttpClient second = cache.Get(Options());

            Assert.Equal(NenErrorIds.ConnectionSetupFailed, first.ErrorId);
            Assert.Equal(NenErrorCategory.InvalidOperation, first.Category);
            Assert.Contains("api.example.test", first.Message);
            Assert.Contains("security protocol", first.Message);
            Assert.IsType<NotSupportedException>(first.InnerException);
            Assert.NotNull(second);
            Assert.Equal(2, attempts);
            Assert.Same(second, cache.Get(Options())); // a client that was built is kept
        }

        [Fact]
        public async Task EveryRequestGoesWithoutExpectContinue()
        {
            var seen = new List<bool?>();
            var cache = new HttpClientCache(_ => new Recording(request => seen.Add(request.Headers.ExpectContinue)));
            HttpClient client = cache.Get(Options());

            using (await client.PostAsync("https://api.example.test/runs", new ByteArrayContent(new byte[100]))) { }
            using (await client.GetAsync("https://storage.example.test/file")) { }

            // false, not null: on .NET Framework, HttpClientHandler turns it into ServicePoint.Expect100Continue = false.
            Assert.Equal(new bool?[] { false, false }, seen);
        }

        [Fact]
        public void SystemProxyCredentialsGoOnAProxyOfTheHandlersOwnAndNeverOnTheSystemProxy()
        {
            var system = new WebProxy("http://proxy.corp.test:8080");
            NenClientOptions options = Options(o => o.ProxyCredential = new ProxyCredentials("svc", TestEmulator.Secret("pw")));

            using HttpClientHandler handler = FrameworkHandlerFactory.Create(options, SslProtocols.Tls12, () => system);

            // Before: DefaultProxyCredentials, which .NET Framework writes onto WebRequest.DefaultWebProxy (process-wide).
            Assert.Null(handler.DefaultProxyCredentials);
            var own = Assert.IsType<SystemProxyWithCredentials>(handler.Proxy);
            Assert.IsType<ProxyCredentials>(own.Credentials);
            Assert.True(handler.UseProxy);
            Assert.Null(system.Credentials);
            Assert.Equal(new Uri("http://proxy.corp.test:8080/"), own.GetProxy(new Uri("https://api.getnen.ai/runs")));
            Assert.Equal(SslProtocols.Tls12, handler.SslProtocols);
            Assert.False(handler.AllowAutoRedirect);
        }

        [Fact]
        public void WithoutCredentialsTheHandlerKeepsTheSystemProxyAsItIs()
        {
            using HttpClientHandler handler = FrameworkHandlerFactory.Create(Options(), SslProtocols.Tls12, () => throw new InvalidOperationException("not asked"));

            Assert.True(handler.UseProxy);
            Assert.Null(handler.Proxy);
            Assert.Null(handler.DefaultProxyCredentials);
        }

        [Fact]
        public void NoSystemProxyMeansADirectConnection()
        {
            var own = new SystemProxyWithCredentials(() => null, new NetworkCredential("u", "p"));
            var target = new Uri("https://api.getnen.ai/runs");

            Assert.True(own.IsBypassed(target));
            Assert.Null(own.GetProxy(target)); // "null means DIRECT" (ServicePointManager.FindServicePoint; SocketsHttpHandler likewise)
        }

        [Fact]
        public async Task TwoBatchesWithDifferentSystemProxyCredentialsEachUseTheirOwn()
        {
            await using var emu = await TestEmulator.StartAsync();
            await using var proxy = await LoopbackProxy.StartAsync("svc-b", "second");
            IWebProxy system = new WebProxy(proxy.Uri); // the process's default proxy; never given credentials
            HttpClientHandler Handler(string user, string password) => FrameworkHandlerFactory.Create(
                Options(o => o.ProxyCredential = new ProxyCredentials(user, TestEmulator.Secret(password))), SslProtocols.Tls12, () => system);
            using var first = new HttpClient(Handler("svc-a", "first"));
            using var second = new HttpClient(Handler("svc-b", "second"));
            var status = new Uri(emu.BaseUri, "runs/nope");

            using HttpResponseMessage refused = await first.GetAsync(status);   // the proxy knows only svc-b
            using HttpResponseMessage through = await second.GetAsync(status);
            using HttpResponseMessage stillRefused = await first.GetAsync(status);

            Assert.Equal(HttpStatusCode.ProxyAuthenticationRequired, refused.StatusCode);
            Assert.NotEqual(HttpStatusCode.ProxyAuthenticationRequired, through.StatusCode);
            Assert.Equal(HttpStatusCode.ProxyAuthenticationRequired, stillRefused.StatusCode); // the second batch's password did not become the first's
            Assert.Null(system.Credentials);
        }

        /// <summary>A server that says which client port each request came from, and holds /slow open until released.</summary>
        private sealed class PortServer : IAsyncDisposable
        {
            private WebApplication _app = null!;
            public Uri Address { get; private set; } = null!;
            public TaskCompletionSource Release { get; } = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            public TaskCompletionSource SlowStarted { get; } = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

            public static async Task<PortServer> StartAsync()
            {
                var server = new PortServer();
                (server._app, server.Address) = await LoopbackApp.StartAsync(app =>
                {
                    app.MapGet("/port", (HttpContext c) => c.Connection.RemotePort.ToString());
                    app.MapGet("/slow", async (HttpContext c) =>
                    {
                        await c.Response.WriteAsync("first part;");
                        await c.Response.Body.FlushAsync();
                        server.SlowStarted.TrySetResult();
                        await server.Release.Task;
                        await c.Response.WriteAsync(c.Connection.RemotePort.ToString());
                    });
                });
                return server;
            }

            public async ValueTask DisposeAsync() => await _app.DisposeAsync();
        }

        private sealed class TrackedHandler : HttpClientHandler
        {
            public bool Disposed { get; private set; }
            protected override void Dispose(bool disposing)
            {
                Disposed = true;
                base.Dispose(disposing);
            }
        }

        [Fact]
        public async Task AfterTheLeaseNewRequestsGoOnNewConnectionsWhileTheOldOnesFinishWhatTheySend()
        {
            await using var server = await PortServer.StartAsync();
            var now = TimeSpan.Zero;
            var made = new List<TrackedHandler>();
            using var renewing = new RenewingHandler(() => { var h = new TrackedHandler(); made.Add(h); return h; }, TimeSpan.FromMinutes(5), () => now);
            using var client = new HttpClient(renewing);
            var port = new Uri(server.Address, "port");

            string a = await client.GetStringAsync(port);
            string b = await client.GetStringAsync(port);
            Task<HttpResponseMessage> slow = client.GetAsync(new Uri(server.Address, "slow"), HttpCompletionOption.ResponseContentRead);
            await server.SlowStarted.Task;
            now = TimeSpan.FromMinutes(5); // the lease is over while /slow is still being answered
            string c = await client.GetStringAsync(port);
            server.Release.SetResult();
            using HttpResponseMessage slowDone = await slow;
            string slowBody = await slowDone.Content.ReadAsStringAsync();

            Assert.Equal(a, b); // one connection reused within the lease
            Assert.NotEqual(a, c); // a new connection after it
            Assert.Equal(2, renewing.Generations);
            Assert.Equal("first part;" + a, slowBody); // the request in flight finished on its own connection
            // The old handler went as soon as it had nothing left to send; its connection closed once idle, not before
            // (.NET Framework: ConnectionGroup.DisableKeepAliveOnConnections closes a busy connection when it is done).
            Assert.True(made[0].Disposed);
            Assert.False(made[1].Disposed);
        }

        private sealed class Recording : HttpMessageHandler
        {
            private readonly Action<HttpRequestMessage> _see;
            public Recording(Action<HttpRequestMessage> see) => _see = see;
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                _see(request);
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
            }
        }
    }
}
