using System.Linq;
using System.Management.Automation;
using NenAi.PowerShell.Tests.Infrastructure;
using Xunit;

namespace NenAi.PowerShell.Tests
{
    /// <summary>A base URL with a path the API does not have (…/v1) gets an error that names the path, not a bare 404.</summary>
    public class BaseUriPathTests : HostedTest
    {
        protected override bool SessionDefaults => false;

        [Theory]
        [InlineData("$rows | Start-NenRun -BaseUri $v1 -ApiKey $apiKey -WorkflowId $echo", "StartNenRunCommand")]
        [InlineData("Get-NenRun -BaseUri $v1 -ApiKey $apiKey -MessageId ([guid]::NewGuid())", "GetNenRunCommand")]
        [InlineData("Wait-NenRun -BaseUri $v1 -ApiKey $apiKey -MessageId ([guid]::NewGuid()) -PollIntervalSec 0.1 -MaximumRetryCount 0", "WaitNenRunCommand")]
        [InlineData("Get-NenRunResult -BaseUri $v1 -ApiKey $apiKey -MessageId ([guid]::NewGuid()) -Destination $TestDrive", "GetNenRunResultCommand")]
        public void EveryCmdletSaysTheBaseUrlsPathIsTheLikelyCause(string script, string command)
        {
            PsResult r = Run(script, ("rows", CsvRows.Numbered(1)), ("v1", Emulator.BaseUri + "v1"));

            ErrorRecord error = Assert.Single(r.AllErrors);
            Assert.Equal($"NenEndpointNotFound,NenAi.Commands.{command}", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
            Assert.Contains("the path '/v1' of the base URL", error.Exception.Message);
            Assert.Empty(State.Ledger);
        }
    }
}
