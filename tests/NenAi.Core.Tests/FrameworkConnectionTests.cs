using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Security.Authentication;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Http;
using NenAi.Emulator;
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
            Assert.Equal(expected, TlsProtocolChoice.ToPin(runtimeNamesTls13, windowsBuild));
            // Pinned only for a process whose default lacks TLS 1.2: powershell.exe without SchUseStrongCrypto (SSL 3 | TLS 1.0).
            Assert.Equal(expected, TlsProtocolChoice.For(SecurityProtocolType.Ssl3 | SecurityProtocolType.Tls, runtimeNamesTls13, windowsBuild));
        }

        [Theory]
        [InlineData(SecurityProtocolType.SystemDefault)]                                                    // .NET Framework 4.7+ target, or SystemDefaultTlsVersions=1
        [InlineData(SecurityProtocolType.Tls | SecurityProtocolType.Tls11 | SecurityProtocolType.Tls12)]    // SchUseStrongCrypto=1
        [InlineData(SecurityProtocolType.Tls12)]                                                            // a script's [Net.ServicePointManager]::SecurityProtocol = 'Tls12'
        [InlineData(SecurityProtocolType.Tls12 | SecurityProtocolType.Tls13)]
        public void AProcessDefaultWithTlsTwelveOrTheSystemsIsLeftToChoose(SecurityProtocolType processDefault)
        {
            // None: HttpClientHandler sets no SslProtocols on the request, which keeps ServicePointManager.SecurityProtocol
            // (HttpClientHandler.cs 529-532, HttpWebRequest.cs 5136), and with SystemDefault, Windows's (an admin's TLS policy).
            // Before: TLS 1.2 (| 1.3) pinned on every handler, overriding it.
            foreach (bool runtimeNamesTls13 in new[] { false, true })
                foreach (int? build in new int?[] { 14393, 17763, 20348, null })
                    Assert.Equal(SslProtocols.None, TlsProtocolChoice.For(processDefault, runtimeNamesTls13, build));
        }

        [Theory]
        [InlineData(SecurityProtocolType.Ssl3 | SecurityProtocolType.Tls)]   // powershell.exe's default without the registry keys
        [InlineData(SecurityProtocolType.Tls)]
        [InlineData(SecurityProtocolType.Tls | SecurityProtocolType.Tls11)]
        public void AProcessDefaultWithoutTlsTwelveGetsItPinnedOnTheModulesOwnHandler(SecurityProtocolType processDefault)
        {
            Assert.Equal(SslProtocols.Tls12, TlsProtocolChoice.For(processDefault, runtimeNamesTls13: true, windowsBuild: 17763));
            Assert.Equal(SslProtocols.Tls12 | SslProtocols.Tls13, TlsProtocolChoice.For(processDefault, runtimeNamesTls13: true, windowsBuild: 20348));
            Assert.Equal(SslProtocols.Tls12, TlsProtocolChoice.For(processDefault, runtimeNamesTls13: false, windowsBuild: 20348));
        }

        [Fact]
        public void EveryHandlerChecksTheServerCertificateItselfSoNoProcessWideCallbackIsConsulted()
        {
            using HttpClientHandler checking = FrameworkHandlerFactory.Create(Options(), SslProtocols.None, () => null);
            using HttpClientHandler skipping = FrameworkHandlerFactory.Create(Options(o => o.SkipCertificateCheck = true), SslProtocols.None, () => null);
            using var request = new HttpRequestMessage(HttpMethod.Get, "https://api.example.test/runs/x");

            // Before: no callback without -SkipCertificateCheck, so .NET Framework went on to ServicePointManager's
            // (ServicePoint.cs 1092-1098). A request's own callback comes first and is the only one asked (1061-1070).
            Assert.NotNull(checking.ServerCertificateCustomValidationCallback);
            Assert.True(checking.ServerCertificateCustomValidationCallback!(request, null!, null!, SslPolicyErrors.None));
            Assert.False(checking.ServerCertificateCustomValidationCallback(request, null!, null!, SslPolicyErrors.RemoteCertificateChainErrors));
            Assert.False(checking.ServerCertificateCustomValidationCallback(request, null!, null!, SslPolicyErrors.RemoteCertificateNameMismatch));
            Assert.True(skipping.ServerCertificateCustomValidationCallback!(request, null!, null!, SslPolicyErrors.RemoteCertificateChainErrors));
            Assert.Equal(SslProtocols.None, checking.SslProtocols);
        }

        [Fact]
        public async Task TheHandlersOwnCertificateCheckDecidesEndToEnd()
        {
            // The handler's own check, over a real TLS connection: the system's verdict refuses the test server's
            // self-signed certificate, -SkipCertificateCheck accepts it. The count of ServicePointManager's callback
            // cannot fail here (.NET's HttpClient never consults it, whatever the handler has); that .NET Framework does
            // not either rests on EveryHandlerChecksTheServerCertificateItselfSoNoProcessWideCallbackIsConsulted (the
            // callback is set on every handler) and ServicePoint.cs 1061-1070 (a request's own callback comes first).
            await using var https = await TestEmulator.StartAsync(tls: new EmulatorTls(TestCertificates.Server()));
            var status = new Uri(https.BaseUri, "runs/nope");
            int consulted = 0;
#pragma warning disable SYSLIB0014
            RemoteCertificateValidationCallback? before = ServicePointManager.ServerCertificateValidationCallback;
            // What a 5.1 script sets: accept everything (here it also counts, and throws as a scriptblock without a runspace would).
            ServicePointManager.ServerCertificateValidationCallback = (_, _, _, _) => { Interlocked.Increment(ref consulted); throw new InvalidOperationException("There is no Runspace available to run scripts in this thread."); };
            try
            {
                using var checking = new HttpClient(FrameworkHandlerFactory.CreatePipeline(Options(), SslProtocols.None, () => null));
                using var skipping = new HttpClient(FrameworkHandlerFactory.CreatePipeline(Options(o => o.SkipCertificateCheck = true), SslProtocols.None, () => null));

                HttpRequestException refused = await Assert.ThrowsAsync<HttpRequestException>(() => checking.GetAsync(status));
                using HttpResponseMessage answered = await skipping.GetAsync(status);

                Assert.IsAssignableFrom<AuthenticationException>(refused.InnerException); // the test server's self-signed certificate: refused by the system's check
                Assert.NotEqual(0, (int)answered.StatusCode);
                Assert.Equal(0, consulted);
            }
            finally
            {
                ServicePointManager.ServerCertificateValidationCallback = before;
            }
#pragma warning restore SYSLIB0014
        }

        [Fact]
        public async Task EveryRequestTurnsNagleOffOnItsServicePointBeforeItIsSent()
        {
            var order = new List<string>();
            var handler = new NoDelayHandler(new Recording(r => order.Add("sent " + r.RequestUri)), address => order.Add("no delay " + address));
            using var client = new HttpClient(handler);

            using (await client.GetAsync("https://api.example.test/runs/1")) { }
            using (await client.GetAsync("https://storage.example.test/f")) { }

            Assert.Equal(new[] { "no delay https://api.example.test/runs/1", "sent https://api.example.test/runs/1", "no delay https://storage.example.test/f", "sent https://storage.example.test/f" }, order);
        }

        [Fact]
        public async Task NagleIsTurnedOffOnTheServicePointTheRequestUses()
        {
            var system = new WebProxy("http://proxy.corp.test:8080");
            using HttpClientHandler direct = FrameworkHandlerFactory.Create(Options(o => o.ProxyMode = ProxyMode.None), SslProtocols.None, () => system);
            using HttpClientHandler viaSystem = FrameworkHandlerFactory.Create(Options(), SslProtocols.None, () => system);
            using HttpClientHandler own = FrameworkHandlerFactory.Create(Options(o => { o.ProxyMode = ProxyMode.Explicit; o.ProxyUri = new Uri("http://other.corp.test:3128"); }), SslProtocols.None, () => system);

            Assert.Null(FrameworkHandlerFactory.ServicePointProxy(direct, () => system));
            Assert.Same(system, FrameworkHandlerFactory.ServicePointProxy(viaSystem, () => system));
            Assert.Same(own.Proxy, FrameworkHandlerFactory.ServicePointProxy(own, () => system));
#pragma warning disable SYSLIB0014
            // The setting itself, as the pipeline makes it (ServicePoint.UseNagleAlgorithm; .NET Framework reads it as it connects, ServicePoint.cs 319).
            var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var address = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/runs");
            listener.Stop(); // nothing listens: the request is refused at once, after the setting was made
            ServicePointManager.FindServicePoint(address, null).UseNagleAlgorithm = true; // .NET Framework's default (ServicePointManager.UseNagleAlgorithm)
            using var client = new HttpClient(FrameworkHandlerFactory.CreatePipeline(Options(o => o.ProxyMode = ProxyMode.None), SslProtocols.None, () => null));
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(address));
            Assert.False(ServicePointManager.FindServicePoint(address, null).UseNagleAlgorithm);
#pragma warning restore SYSLIB0014
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
