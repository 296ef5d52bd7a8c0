using System;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using NenAi.PowerShell.Tests.Infrastructure;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// Issue 28: outcomes say what is known ("not found", not "failed"), a summary has no empty field, every error that
    /// advises an action names the command that does it, and what a proxy refuses is named as the proxy's.
    /// </summary>
    public class SaysWhatIsKnownTests : HostedTest
    {
        [Fact]
        public void ARunTheServiceDoesNotKnowIsNotFoundNotFailedAndTheSummaryNamesNoJournal()
        {
            PsResult r = Run("Get-NenRun -MessageId $id -SummaryVariable s; $s.Outcomes.NotFound; $s.Outcomes.StatusUnknown; $s.HasProblems; \"$s\"",
                ("id", Guid.NewGuid().ToString()));

            Assert.Equal("NenRunNotFound,NenAi.Commands.GetNenRunCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
            Assert.Equal(new object[] { 1, 0, true }, r.BaseOutput.Take(3).ToArray());
            string line = (string)r.BaseOutput.Last();
            // Each run once, under what is known of it: the service does not know it (issue 28), and its status is not unknown (issue 25).
            Assert.Matches(@"^Get-NenRun: 1 runs, 0 answered, 1 not found, 0 status unknown; errors: NenRunNotFound 1; \d+\.\d s$", line);
            Assert.DoesNotContain("journal", line);
            Assert.Contains(r.Information, i => i.MessageData.ToString() == line);
        }

        [Fact]
        public void AWaitThatRanOutSaysHowToGoOn()
        {
            PsResult r = Run("$rows | Start-NenRun -WorkflowId $slowWf | Wait-NenRun -PollIntervalSec 0.1 -TimeoutSec 1 | Out-Null",
                ("rows", CsvRows.Numbered(1)));

            ErrorRecord timeout = Assert.Single(r.Errors);
            Assert.Equal("NenWaitTimeout,NenAi.Commands.WaitNenRunCommand", timeout.FullyQualifiedErrorId);
            Assert.Contains("follow it again with Wait-NenRun", timeout.Exception.Message);
            Assert.Contains("Get-NenRunResult", timeout.Exception.Message);
        }

        [Theory]
        [InlineData("$rows | Start-NenRun -WorkflowId $echo @p", "StartNenRunCommand")]
        [InlineData("$ids | Get-NenRun @p", "GetNenRunCommand")]
        [InlineData("$ids | Wait-NenRun @p -PollIntervalSec 0.1", "WaitNenRunCommand")]
        public async Task AProxysRefusalPageIsOneErrorNamingTheProxyNotTheApiKey(string command, string cmdlet)
        {
            await using var proxy = await LoopbackProxy.StartAsync("nightly", "right-proxy-password", wrongCredentials: 401);
            PsResult r = Run("$p = @{ Proxy = $proxyUri; ProxyCredential = [pscredential]::new('nightly', $wrong) }\n" + command,
                ("proxyUri", proxy.Uri), ("wrong", PsSession.Secure("canary-wrong-proxy-password")), ("rows", CsvRows.Numbered(5)),
                ("ids", Enumerable.Range(0, 5).Select(_ => Guid.NewGuid().ToString()).ToArray()));

            ErrorRecord error = Assert.Single(r.AllErrors);
            Assert.Equal($"NenProxyAuthenticationRequired,NenAi.Commands.{cmdlet}", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.AuthenticationError, error.CategoryInfo.Category);
            Assert.Contains($"the proxy {proxy.Uri}", error.Exception.Message);
            Assert.Contains("The proxy credentials were refused", error.Exception.Message);
            Assert.Contains("-ProxyCredential", error.Exception.Message);
            Assert.DoesNotContain("API key was refused", error.Exception.Message);
            Assert.DoesNotContain("NEN_API_KEY", error.Exception.Message);
            Assert.DoesNotContain("canary", r.AllText());
            Assert.Equal(0, State.PostRuns + State.GetRuns);
        }
    }
}
