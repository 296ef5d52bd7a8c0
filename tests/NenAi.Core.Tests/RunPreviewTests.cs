using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using NenAi.Core.Configuration;
using NenAi.Core.Http;
using NenAi.Core.Models;
using NenAi.Core.Rows;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>Issue 28: -WhatIf names each row's parameters; -WhatIf -Verbose shows the body it would send, secure values masked.</summary>
    public class RunPreviewTests
    {
        private static RunRequest Row(int parameters = 2, string secret = "canary-preview-secret-4e1")
        {
            var r = new RunRequest(TestEmulator.SecureWorkflow) { WebhookCallback = new Uri("https://hooks.example/nen?token=canary-hook-token") };
            r.Parameters.Add(new KeyValuePair<string, object?>("CUSTOMER_NAME", "Zoë 東京 😀"));
            for (int i = 1; i < parameters; i++) r.Parameters.Add(new KeyValuePair<string, object?>("P" + i, i));
            r.SecureParameters.Add(new KeyValuePair<string, SecretValue>("password", TestEmulator.Secret(secret)));
            return r;
        }

        [Fact]
        public void WhatIfNamesTheWorkflowTheParametersAndTheRowNeverAValue()
        {
            string text = RunPreview.Describe(Row(), "row 3 (JobId 1003)");

            Assert.Equal($"Workflow {TestEmulator.SecureWorkflow} with 2 parameter(s) (CUSTOMER_NAME, P1) and 1 secure parameter(s) (password), webhook https://hooks.example/nen?***, row 3 (JobId 1003)", text);
            Assert.DoesNotContain("canary", text);
        }

        [Fact]
        public void ManyParametersAreNamedUpToALimitThenCounted()
        {
            string text = RunPreview.Describe(Row(parameters: 40), "row 1");
            Assert.Contains($"P{RunPreview.NamesShown - 1} and {40 - RunPreview.NamesShown} more)", text);
        }

        [Fact]
        public void TheBodyIsTheOneSentWithSecureValuesMaskedAsAsciiJson()
        {
            RunRequest request = Row();
            string preview = RunPreview.Body(request);
            using ZeroingBufferWriter sent = RunRequestSerializer.Serialize(request);

            Assert.All(preview, c => Assert.InRange(c, (char)0x20, (char)0x7E));
            Assert.DoesNotContain("canary", preview);
            using JsonDocument shown = JsonDocument.Parse(preview);
            using JsonDocument real = JsonDocument.Parse(Encoding.UTF8.GetString(sent.Buffer, 0, sent.WrittenCount));
            Assert.Equal(real.RootElement.GetProperty("workflow_params").GetRawText(), shown.RootElement.GetProperty("workflow_params").GetRawText()
                .Replace("\\u00eb", "ë").Replace("\\u6771\\u4eac", "東京").Replace("\\ud83d\\ude00", "😀"));
            Assert.Equal("Zoë 東京 😀", shown.RootElement.GetProperty("workflow_params").GetProperty("CUSTOMER_NAME").GetString());
            Assert.Equal(RunRequestSerializer.MaskedValue, shown.RootElement.GetProperty("secure_workflow_params").GetProperty("password").GetString());
            Assert.Equal("canary-preview-secret-4e1", real.RootElement.GetProperty("secure_workflow_params").GetProperty("password").GetString());
            Assert.Equal("https://hooks.example/nen?***", shown.RootElement.GetProperty("webhook_callback").GetString());
        }

        [Fact]
        public void ARowThatCouldNotBeSentHasNoBodyEither()
        {
            var r = new RunRequest(TestEmulator.EchoWorkflow);
            r.Parameters.Add(new KeyValuePair<string, object?>("BIG", new string('x', RunRequestSerializer.MaxBodyBytes)));
            Assert.Equal(Errors.NenErrorIds.RequestTooLarge, Assert.Throws<Errors.NenException>(() => RunPreview.Body(r)).ErrorId);
        }

        [Fact]
        public void ARowTooLargeOnlyBecauseOfASecureValueHasNoBodyEither()
        {
            // A secure value (a SecureString holds at most 65,536 characters) on a row just under the limit: the masked body
            // fits; the one that would be sent does not, so the preview must not show it as sendable.
            RunRequest r = Row(secret: new string('s', 60_000));
            r.Parameters.Add(new KeyValuePair<string, object?>("BIG", new string('x', RunRequestSerializer.MaxBodyBytes - 1_000)));
            Assert.Equal(Errors.NenErrorIds.RequestTooLarge, Assert.Throws<Errors.NenException>(() => RunRequestSerializer.Serialize(r)).ErrorId);

            var ex = Assert.Throws<Errors.NenException>(() => RunPreview.Body(r));

            Assert.Equal(Errors.NenErrorIds.RequestTooLarge, ex.ErrorId);
            Assert.DoesNotContain("sss", ex.Message);
        }
    }
}
