using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using NenAi.TestSupport;
using NenAi.Core.Configuration;
using NenAi.Core.Errors;
using NenAi.Core.Models;
using NenAi.Core.Rows;
using NenAi.Core.Tests.Infrastructure;
using Xunit;

namespace NenAi.Core.Tests
{
    /// <summary>What Start-NenRun decides per row, proven without PowerShell.</summary>
    public class RunRequestFactoryTests
    {
        private static List<KeyValuePair<string, object?>> Row(params (string, object?)[] cells) => Requests.Cells(cells);

        private static RunRequestFactory Factory(bool keyed = false, string? keyProperty = null, string[]? exclude = null) =>
            new RunRequestFactory(new RowMapper(excludedColumns: exclude ?? new[] { "WorkflowId" }), keyProperty: keyProperty, keyed: keyed);

        [Theory]
        [InlineData(null, "password")]
        [InlineData(null, "PASSWORD")] // a CSV header's case is anybody's
        [InlineData("pw", "pw")] // -Property @{ pw = 'password' } sends the column pw as password
        public void AColumnSentUnderASecureParametersNameIsRefusedByItsShapeNamingNoValue(string? renamedFrom, string column)
        {
            using SecretValue secret = TestEmulator.Secret("canary-secret-value");
            var secure = new[] { new KeyValuePair<string, SecretValue>("password", secret) };
            RowMapper mapper = renamedFrom is null
                ? new RowMapper(excludedColumns: new[] { "WorkflowId" }, omitEmptyValues: true)
                : new RowMapper(new[] { new KeyValuePair<string, string>(renamedFrom, "password"), new KeyValuePair<string, string>("USER", "USER") }, new[] { "WorkflowId" }, omitEmptyValues: true);
            var factory = new RunRequestFactory(mapper, secure);

            // An empty cell left out by -OmitEmptyValue is refused too: what counts is the row's shape, the same for every row.
            foreach (string value in new[] { "plain-column-value", "" })
            {
                var ex = Assert.Throws<SecureParameterConflictException>(() => factory.Create(TestEmulator.SecureWorkflow, Row(("USER", "u"), (column, value)), null, "row"));
                Assert.Equal((NenErrorIds.SecureParameterConflict, NenErrorCategory.InvalidArgument), (ex.ErrorId, ex.Category));
                Assert.Equal("password", ex.Name);
                Assert.Contains($"-ExcludeProperty {column}", ex.Message);
                Assert.DoesNotContain("plain-column-value", ex.Message);
                Assert.DoesNotContain("canary-secret-value", ex.Message);
            }
            // Left out, the row goes with the secure value only.
            var fine = new RunRequestFactory(new RowMapper(excludedColumns: new[] { "WorkflowId", column }), secure).Create(TestEmulator.SecureWorkflow, Row(("USER", "u"), (column, "x")), null, null);
            Assert.Equal(new[] { "USER" }, System.Linq.Enumerable.Select(fine.Parameters, p => p.Key));
            Assert.Equal("password", Assert.Single(fine.SecureParameters).Key);
        }

        [Fact]
        public void AnExplicitParameterThatASecureParameterNamesTooIsRefused()
        {
            using SecretValue secret = TestEmulator.Secret("canary-secret-value");
            var factory = new RunRequestFactory(new RowMapper(), new[] { new KeyValuePair<string, SecretValue>("password", secret) });

            var ex = Assert.Throws<SecureParameterConflictException>(() => factory.RefuseSecureClash(Row(("Password", "plain-explicit-value"))));
            var perRow = Assert.Throws<SecureParameterConflictException>(() => factory.Create(TestEmulator.SecureWorkflow, Row(("USER", "u")), Row(("password", "plain-explicit-value")), null));

            Assert.Equal(NenErrorIds.SecureParameterConflict, ex.ErrorId);
            Assert.Contains("-Parameter and -SecureParameter both name 'password'", ex.Message);
            Assert.DoesNotContain("plain-explicit-value", ex.Message + perRow.Message);
            factory.RefuseSecureClash(Row(("USER", "u"))); // another name is fine
        }

        [Fact]
        public void ColumnsBecomeParametersAndExplicitOnesWin()
        {
            var request = Factory().Create(TestEmulator.EchoWorkflow, Row(("WorkflowId", TestEmulator.EchoWorkflow), ("NAME", "csv"), ("COUNT", "1")), Row(("name", "explicit"), ("FLAG", true)), "row");
            Assert.Equal(new[] { "name", "COUNT", "FLAG" }, System.Linq.Enumerable.Select(request.Parameters, p => p.Key));
            Assert.Equal("explicit", request.Parameters[0].Value);
            Assert.Equal("row", request.Tag);
            Assert.Null(request.RowKey);
        }

        [Theory]
        [InlineData("not-a-guid")]
        [InlineData("12345678-1234-1234-1234-123456789abc")]
        public void ARowWhoseWorkflowIdColumnNamesAnotherWorkflowThanTheCommandsIsRefusedNotSentToIt(string cell)
        {
            var ex = Assert.Throws<NenException>(() => Factory().Create(TestEmulator.EchoWorkflow, Row(("WorkflowId", cell), ("NAME", "x")), null, null));

            Assert.Equal(NenErrorIds.InvalidWorkflowId, ex.ErrorId);
            Assert.Contains(cell, ex.Message);
            Assert.Contains("-WorkflowId", ex.Message);
        }

        [Theory]
        [InlineData("")]
        [InlineData("  ")]
        [InlineData(TestEmulator.EchoWorkflow)]
        [InlineData("11111111-1111-1111-1111-111111111111 ")]
        public void AnEmptyWorkflowIdCellOrOneThatAgreesGoesToTheCommandsWorkflow(string cell) =>
            Assert.Equal(TestEmulator.EchoWorkflow, Factory().Create(TestEmulator.EchoWorkflow, Row(("WorkflowId", cell), ("NAME", "x")), null, null).WorkflowId);

        [Fact]
        public void KeyPropertyGivesAStableKeyAndIdempotencyKey()
        {
            var factory = Factory(keyProperty: "Id", exclude: new[] { "WorkflowId", "Id" });
            var a = factory.Create(TestEmulator.EchoWorkflow, Row(("Id", "42"), ("NAME", "a")), null, null);
            var b = factory.Create(TestEmulator.EchoWorkflow, Row(("Id", "42"), ("NAME", "changed")), null, null);
            Assert.Equal("col:42", a.RowKey);
            Assert.Equal(a.IdempotencyKey, b.IdempotencyKey);
            Assert.DoesNotContain(a.Parameters, p => p.Key == "Id");
        }

        [Fact]
        public void WithoutKeyPropertyAJournaledRowIsKeyedByItsHash()
        {
            var factory = Factory(keyed: true);
            var a = factory.Create(TestEmulator.EchoWorkflow, Row(("NAME", "a"), ("COUNT", "1")), null, null);
            var b = factory.Create(TestEmulator.EchoWorkflow, Row(("COUNT", "1"), ("NAME", "a")), null, null);
            var c = factory.Create(TestEmulator.EchoWorkflow, Row(("NAME", "b"), ("COUNT", "1")), null, null);
            Assert.StartsWith("sha256:", a.RowKey);
            Assert.Equal(a.RowKey, b.RowKey);
            Assert.NotEqual(a.RowKey, c.RowKey);
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("   ")]
        [InlineData("1234")]
        [InlineData("{11111111-1111-1111-1111-111111111111}")]
        public void BadWorkflowIdsAreRefusedPerRow(string? id)
        {
            // The row has a WorkflowId column (blank here), so another row may route itself: this row's own error.
            var ex = Assert.ThrowsAny<NenException>(() => Factory().Create(id, Row(("NAME", "x"), ("WorkflowId", "")), null, null));
            Assert.Equal(NenErrorIds.InvalidWorkflowId, ex.ErrorId);
            Assert.Equal(NenErrorCategory.InvalidArgument, ex.Category);
        }

        [Theory]
        [InlineData("0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21")]
        [InlineData("ABCDEF01-2345-6789-ABCD-EF0123456789")] // upper case, no RFC 4122 version or variant
        [InlineData("00000000-0000-0000-0000-000000000000")]
        [InlineData("  0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21 ")]
        public void AnyUuidInItsUsualFormIsAWorkflowId(string id)
        {
            RunRequest request = Factory().Create(id, Row(("NAME", "x")), null, null);
            Assert.Equal(id.Trim(), request.WorkflowId);
        }

        [Theory]
        [InlineData("invoice-export", null)]
        [InlineData("https://app.getnen.ai/workflows/0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21", null)]
        [InlineData("{0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21}", "Write it as '0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21'.")]
        [InlineData("0F6A1F7E9A554C558D7E3B1B2A6F4C21", "Write it as '0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21'.")]
        public void AnythingElseIsNotAWorkflowIdAndSaysWhatIs(string id, string? hint)
        {
            var ex = Assert.Throws<MalformedWorkflowIdException>(() => Factory().Create(id, Row(("NAME", "x")), null, null));
            Assert.Equal(NenErrorIds.InvalidWorkflowId, ex.ErrorId);
            Assert.Equal(id, ex.WorkflowId); // what the batch remembers, to refuse every row naming it once
            Assert.Contains("Nen workflow ids are UUIDs written as xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", ex.Message);
            if (hint != null) Assert.EndsWith(hint, ex.Message);
            else Assert.DoesNotContain("Write it as", ex.Message);
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("   ")]
        public void NoWorkflowIdAndNoWorkflowIdColumnIsOneErrorForTheInput(string? id)
        {
            // No row of such input could be sent: the command ends with one error (acceptance: 50 rows, 50 errors).
            var ex = Assert.Throws<NoWorkflowException>(() => Factory().Create(id, Row(("NAME", "x")), null, null));
            Assert.Equal(NenErrorIds.InvalidWorkflowId, ex.ErrorId);
            Assert.Contains("Give -WorkflowId", ex.Message);
        }

        [Fact]
        public void AMissingKeyColumnIsNamed()
        {
            var ex = Assert.Throws<MissingColumnException>(() => Factory(keyProperty: "OrderNo").Create(TestEmulator.EchoWorkflow, Row(("NAME", "x")), null, null));
            Assert.Equal(NenErrorIds.MissingColumn, ex.ErrorId);
            Assert.Contains("'OrderNo'", ex.Message);
            Assert.Equal(new[] { "OrderNo" }, ex.Columns); // the command ends at the first row with it (issue 25)
        }

        [Fact]
        public void AnEmptyKeyIsRefused()
        {
            var ex = Assert.Throws<NenException>(() => Factory(keyProperty: "Id").Create(TestEmulator.EchoWorkflow, Row(("Id", " ")), null, null));
            Assert.Contains("empty", ex.Message);
        }

        [Fact]
        public void WebhookMustBeAnAbsoluteHttpUrl()
        {
            var ex = Assert.Throws<NenException>(() => new RunRequestFactory(new RowMapper(), webhookCallback: new Uri("ftp://hooks.example.test/x")));
            Assert.Equal(NenErrorIds.InvalidWebhookUri, ex.ErrorId);
        }

        [Fact]
        public void SecureParametersAreSharedByEveryRowButNeverHashed()
        {
            using SecretValue secret = TestEmulator.Secret("canary-secret-value");
            var factory = new RunRequestFactory(new RowMapper(), new[] { new KeyValuePair<string, SecretValue>("password", secret) }, keyed: true);
            var request = factory.Create(TestEmulator.SecureWorkflow, Row(("USER", "u")), null, null);
            Assert.Single(request.SecureParameters);
            var withoutSecret = new RunRequestFactory(new RowMapper(), keyed: true).Create(TestEmulator.SecureWorkflow, Row(("USER", "u")), null, null);
            Assert.Equal(withoutSecret.RowKey, request.RowKey);
        }

        [Fact]
        public async Task AFieldOverOneMebibyteIsRefusedBeforeSendingAndTheNextRowStillGoes()
        {
            await using var emu = await TestEmulator.StartAsync();
            var factory = Factory();
            var big = factory.Create(TestEmulator.EchoWorkflow, Row(("NAME", new string('x', 2 * 1024 * 1024))), null, null);
            var ex = await Assert.ThrowsAsync<NenException>(() => emu.Client().StartRunAsync(big));
            Assert.Equal(NenErrorIds.RequestTooLarge, ex.ErrorId);
            await emu.Client().StartRunAsync(factory.Create(TestEmulator.EchoWorkflow, Row(("NAME", "small")), null, null));
            Assert.Single(emu.State.Ledger);
        }
    }
}
