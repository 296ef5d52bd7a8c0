using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Http;
using System.Reflection;
using System.Security;
using System.Security.Authentication;
using System.Threading.Tasks;
using NenAi.Emulator;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>What a Windows server admin expects of connections: TLS, proxies as servers have them, certificates.</summary>
    public class ConnectionSettingsTests : HostedTest
    {
        private const string StartOne = "$rows | Start-NenRun -WorkflowId $echo";

        [Fact]
        public void TheWindowsPowerShellBuildAsksForTheTlsItsDecisionGivesOnAHandlerThatRenewsItsConnections()
        {
            var build = new Net472Build();
            object options = build.Options("https://api.example.test");
            var before = ServicePointManager.SecurityProtocol;

            object handler = build.CoreType("Http.HttpClientPool").GetMethod("CreateHandler", BindingFlags.NonPublic | BindingFlags.Static)!.Invoke(null, new[] { options })!;

            Assert.Equal("NenAi.Core.Http.RenewingHandler", handler.GetType().FullName);
            Assert.Equal(TimeSpan.FromMinutes(5), Net472Build.Get(handler, "Lease"));
            // Nagle off on each request's ServicePoint, in front of the HttpClientHandler.
            object current = Net472Build.Get(handler, "Current")!;
            Assert.Equal("NenAi.Core.Http.NoDelayHandler", current.GetType().FullName);
            var clientHandler = Assert.IsType<HttpClientHandler>(((DelegatingHandler)current).InnerHandler);
            // TlsProtocolChoice here: this process's default is SystemDefault, so nothing is pinned and the system chooses
            // (before: TLS 1.2 pinned whatever the process default; now only where it lacks TLS 1.2, FrameworkConnectionTests).
#pragma warning disable SYSLIB0014
            Assert.Equal(SecurityProtocolType.SystemDefault, ServicePointManager.SecurityProtocol);
#pragma warning restore SYSLIB0014
            Assert.Equal(SslProtocols.None, clientHandler.SslProtocols);
            // Its own certificate check, so ServicePointManager.ServerCertificateValidationCallback is never consulted.
            Assert.NotNull(clientHandler.ServerCertificateCustomValidationCallback);
            Assert.False(clientHandler.AllowAutoRedirect);
            Assert.Equal(64, clientHandler.MaxConnectionsPerServer);
            Assert.Null(clientHandler.DefaultProxyCredentials);
            Assert.Equal(before, ServicePointManager.SecurityProtocol); // the process-wide setting is left alone
            ((IDisposable)handler).Dispose();
        }

        [Fact]
        public async Task ACorrectedProxyPasswordTakesEffect()
        {
            await using var proxy = await LoopbackProxy.StartAsync("svc-proxy", "right password");
            var vars = new (string, object?)[] { ("rows", CsvRows.Numbered(1)), ("proxy", proxy.Uri), ("user", "svc-proxy") };

            PsResult wrong = Run(StartOne + " -Proxy $proxy -ProxyCredential ([pscredential]::new($user, $wrongPassword))", vars.Append(("wrongPassword", PsSession.Secure("wrong password"))).ToArray());
            PsResult right = Run(StartOne + " -Proxy $proxy -ProxyCredential ([pscredential]::new($user, $rightPassword))", vars.Append(("rightPassword", PsSession.Secure("right password"))).ToArray());

            // Refused proxy credentials are refused for every row: one error (issue 17), written last (issue 25).
            ErrorRecord refused = Assert.Single(wrong.AllErrors);
            Assert.Same(wrong.BatchStop, refused);
            Assert.Equal("NenProxyAuthenticationRequired,NenAi.Commands.StartNenRunCommand", refused.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.AuthenticationError, refused.CategoryInfo.Category);
            right.AssertClean();
            Assert.Single(right.Output);
            Assert.Single(State.Ledger);
        }

        [Fact]
        public async Task ProxyUseDefaultCredentialsGoesThroughTheProxyAndAChallengeItCannotAnswerIsClear()
        {
            await using var open = await LoopbackProxy.StartAsync();
            await using var basic = await LoopbackProxy.StartAsync("svc-proxy", "secret");

            PsResult through = Run(StartOne + " -Proxy $proxy -ProxyUseDefaultCredentials", ("rows", CsvRows.Numbered(1)), ("proxy", open.Uri)).AssertClean();
            PsResult refused = Run(StartOne + " -Proxy $proxy -ProxyUseDefaultCredentials", ("rows", CsvRows.Numbered(1)), ("proxy", basic.Uri));

            Assert.Single(through.Output);
            Assert.True(open.Forwarded >= 1);
            // Integrated authentication cannot answer a Basic challenge (and there is no domain here): said plainly.
            ErrorRecord challenge = Assert.Single(refused.AllErrors); // one terminating error (issue 17)
            Assert.Equal("NenProxyAuthenticationRequired,NenAi.Commands.StartNenRunCommand", challenge.FullyQualifiedErrorId);
            Assert.Contains("-ProxyCredential", challenge.Exception.Message + " " + challenge.ErrorDetails?.Message, StringComparison.Ordinal);
        }

        [Theory]
        [InlineData("-NoProxy -Proxy $proxy")]
        [InlineData("-NoProxy -ProxyUseDefaultCredentials")]
        [InlineData("-ProxyUseDefaultCredentials -ProxyCredential ([pscredential]::new('u', $apiKey))")]
        public void ContradictoryProxySettingsAreOneTerminatingErrorBeforeAnyRequest(string arguments)
        {
            PsResult r = Run(StartOne + " " + arguments, ("rows", CsvRows.Numbered(2)), ("proxy", new Uri("http://127.0.0.1:9")));

            Assert.Equal("NenInvalidProxySettings,NenAi.Commands.StartNenRunCommand", r.Terminating?.FullyQualifiedErrorId);
            Assert.Empty(r.Errors);
            Assert.Equal(0, State.PostRuns);
        }

        [Fact]
        public async Task SkipCertificateCheckReachesAServerWithAnUntrustedCertificateAndWarnsOnce()
        {
            await using var https = await TestEmulator.StartAsync(tls: new EmulatorTls(TestCertificates.Server()));
            using PsSession ps = PsSession.For(https);
            ps.Set("TestDrive", TestDrive);

            PsResult refused = ps.Run("$rows | Start-NenRun -WorkflowId $echo -MaximumRetryCount 1", ("rows", CsvRows.Numbered(1)));
            PsResult skipped = ps.Run(@"$rows | Start-NenRun -WorkflowId $filesWf -SkipCertificateCheck |
                Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 30 -SkipCertificateCheck |
                Get-NenRunResult -Destination $TestDrive -SkipCertificateCheck", ("rows", CsvRows.Numbered(1)));

            // A server nobody can reach over TLS fails for everyone: one error ends the batch (not an unknown outcome).
            ErrorRecord error = Assert.Single(refused.AllErrors);
            Assert.Same(refused.BatchStop, error);
            Assert.DoesNotContain("OutcomeUnknown", error.FullyQualifiedErrorId);
            Assert.Contains("certificate", error.Exception.Message);
            skipped.AssertClean();
            Assert.Equal(3, skipped.Output.Count); // downloads over https too
            Assert.Equal(3, skipped.Warning.Count(w => w.Message.Contains("SkipCertificateCheck"))); // once per command
            Assert.Single(https.State.Ledger);
        }

        [Fact]
        public async Task ACertificateAuthenticatesTheClient()
        {
            var clientCertificate = TestCertificates.Client();
            await using var https = await TestEmulator.StartAsync(tls: new EmulatorTls(TestCertificates.Server(), requireClientCertificate: true));
            using PsSession ps = PsSession.For(https);

            PsResult without = ps.Run("$rows | Start-NenRun -WorkflowId $echo -SkipCertificateCheck", ("rows", CsvRows.Numbered(1)));
            PsResult with = ps.Run("$rows | Start-NenRun -WorkflowId $echo -SkipCertificateCheck -Certificate $certificate | Wait-NenRun -SkipCertificateCheck -Certificate $certificate -PollIntervalSec 0.1 -TimeoutSec 30",
                ("rows", CsvRows.Numbered(1)), ("certificate", clientCertificate));

            // Under TLS 1.3 the server refuses a missing certificate only after the client has sent its request, which
            // looks exactly like a server that died mid-request: reported as such, and nothing was started.
            Assert.Contains("closed the connection before answering", Assert.Single(without.Errors).Exception.Message);
            with.AssertClean();
            Assert.Single(https.State.Ledger); // only the run of the command that brought the certificate
            Assert.Equal("success", PsResult.Prop(Assert.Single(with.Output), "Status"));
            Assert.True(https.State.ClientCertificates.TryGetValue(clientCertificate.Thumbprint, out int requests) && requests >= 2);
        }
    }

    /// <summary>The system proxy is process-wide (HttpClient.DefaultProxy, WebRequest.DefaultWebProxy), so these run alone.</summary>
    [Collection(ProcessEnvironment.Name)]
    public class SystemProxyTests : HostedTest
    {
        [Fact]
        public async Task TheWindowsPowerShellBuildGivesSystemProxyCredentialsToItsOwnProxyAndNeverToTheProcesssDefault()
        {
            await using var proxy = await LoopbackProxy.StartAsync("svc-proxy", "system secret");
#pragma warning disable SYSLIB0014 // WebRequest.DefaultWebProxy is what the .NET Framework build reads as "the system proxy"
            IWebProxy saved = WebRequest.DefaultWebProxy;
            var system = new WebProxy(proxy.Uri);
            WebRequest.DefaultWebProxy = system;
            try
            {
                var build = new Net472Build();
                object options = build.Options(Emulator.BaseUri.ToString());
                Type credentials = build.CoreType("Configuration.ProxyCredentials");
                Net472Build.Set(options, "ProxyCredential", Activator.CreateInstance(credentials, "svc-proxy", build.Secret("system secret"), null));
                var client = (HttpClient)build.CoreType("Http.HttpClientPool").GetMethod("Get")!.Invoke(null, new[] { options })!;

                using HttpResponseMessage answer = await client.GetAsync(new Uri(Emulator.BaseUri, "runs/no-such-run"));

                Assert.NotEqual(HttpStatusCode.ProxyAuthenticationRequired, answer.StatusCode); // the emulator's answer, through the proxy
                Assert.True(proxy.Challenged >= 1 && proxy.Forwarded >= 1);
                // Before: HttpClientHandler.DefaultProxyCredentials, which .NET Framework writes onto this very object.
                Assert.Same(system, WebRequest.DefaultWebProxy);
                Assert.Null(system.Credentials);
            }
            finally
            {
                WebRequest.DefaultWebProxy = saved;
            }
#pragma warning restore SYSLIB0014
        }

        [Fact]
        public async Task AProxyCredentialWithoutProxyIsForTheSystemProxy()
        {
            await using var proxy = await LoopbackProxy.StartAsync("svc-proxy", "system secret");
            IWebProxy saved = HttpClient.DefaultProxy;
            HttpClient.DefaultProxy = new WebProxy(proxy.Uri);
            try
            {
                PsResult r = Run("$rows | Start-NenRun -WorkflowId $echo -ProxyCredential ([pscredential]::new('svc-proxy', $password))",
                    ("rows", CsvRows.Numbered(1)), ("password", PsSession.Secure("system secret"))).AssertClean();

                Assert.Single(r.Output);
                Assert.True(proxy.Challenged >= 1 && proxy.Forwarded >= 1, "the request went through the system proxy, which got its credentials");
            }
            finally
            {
                HttpClient.DefaultProxy = saved;
            }
        }
    }
}
