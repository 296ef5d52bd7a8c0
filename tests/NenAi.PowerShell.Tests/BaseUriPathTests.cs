using System.Linq;
using System.Management.Automation;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>
    /// A base URL with a path the API does not have (…/v1) gets one error that names the path, not a bare 404, and
    /// not one per row: it ends the command.
    /// </summary>
    public class BaseUriPathTests : HostedTest
    {
        protected override bool SessionDefaults => false;

        [Theory]
        [InlineData("$rows | Start-NenRun -BaseUri $v1 -ApiKey $apiKey -WorkflowId $echo", "StartNenRunCommand")]
        [InlineData("Get-NenRun -BaseUri $v1 -ApiKey $apiKey -MessageId $ids", "GetNenRunCommand")]
        [InlineData("Wait-NenRun -BaseUri $v1 -ApiKey $apiKey -MessageId $ids -PollIntervalSec 0.1 -MaximumRetryCount 0", "WaitNenRunCommand")]
        [InlineData("Get-NenRunResult -BaseUri $v1 -ApiKey $apiKey -MessageId $ids -Destination $TestDrive", "GetNenRunResultCommand")]
        public void EveryCmdletSaysTheBaseUrlsPathIsTheLikelyCause(string script, string command)
        {
            // 100 rows or 40 runs, one error: every request would go to the same wrong address (acceptance: 100 errors).
            PsResult r = Run(script, ("rows", CsvRows.Numbered(100)), ("v1", Emulator.BaseUri + "v1"),
                ("ids", Enumerable.Range(0, 40).Select(_ => System.Guid.NewGuid().ToString()).ToArray()));

            ErrorRecord error = Assert.Single(r.AllErrors);
            Assert.Equal($"NenEndpointNotFound,NenAi.Commands.{command}", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
            Assert.Contains("the path '/v1' of the base URL", error.Exception.Message);
            Assert.Contains("Correct -BaseUri", error.Exception.Message);
            // Start-NenRun writes it after every run, so they stay in the pipeline (issue 25); the others end with it.
            if (command == "StartNenRunCommand") Assert.Null(r.Terminating);
            else Assert.NotNull(r.Terminating);
            Assert.Empty(State.Ledger);
        }
    }
}
