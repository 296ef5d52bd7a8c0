using System.Collections.Generic;
using NenAi.Core.Errors;
using NenAi.Core.Rows;
using NenAi.Core.Tests.Infrastructure;
using Xunit;

namespace NenAi.Core.Tests
{
    public class RowMapperTests
    {
        private static List<KeyValuePair<string, object?>> Row(params (string, object?)[] cells) => Requests.Cells(cells);

        [Fact]
        public void EveryColumnBecomesAParameterExceptExcludedOnes()
        {
            var mapped = new RowMapper(excludedColumns: new[] { "WorkflowId" }).Map(Row(("WorkflowId", "x"), ("NAME", "Ada"), ("COUNT", "3")));
            Assert.Equal(new[] { "NAME", "COUNT" }, mapped.ConvertAll(p => p.Key));
        }

        [Fact]
        public void SelectionRenamesAndOrders()
        {
            var mapper = new RowMapper(new[] { new KeyValuePair<string, string>("Customer", "CUSTOMER_NAME"), new KeyValuePair<string, string>("Start", "START_DATE") });
            var mapped = mapper.Map(Row(("Start", "2025-01-01"), ("Customer", "Ada"), ("Ignored", "z")));
            Assert.Equal(new[] { "CUSTOMER_NAME", "START_DATE" }, mapped.ConvertAll(p => p.Key));
            Assert.Equal("Ada", mapped[0].Value);
        }

        [Fact]
        public void MissingSelectedColumnsAreNamed()
        {
            var mapper = new RowMapper(new[] { new KeyValuePair<string, string>("Customer", "C"), new KeyValuePair<string, string>("Start", "S") });
            var ex = Assert.Throws<MissingColumnException>(() => mapper.Map(Row(("Other", "1"))));
            Assert.Equal(NenErrorIds.MissingColumn, ex.ErrorId);
            Assert.Contains("'Customer', 'Start'", ex.Message);
            Assert.Equal(new[] { "Customer", "Start" }, ex.Columns);
        }

        [Fact]
        public void EmptyCellsCanBeLeftOut()
        {
            var mapped = new RowMapper(omitEmptyValues: true).Map(Row(("A", ""), ("B", "x"), ("C", null)));
            Assert.Equal(new[] { "B" }, mapped.ConvertAll(p => p.Key));
        }

        [Fact]
        public void TwoSelectionsOntoOneParameterAreRefused()
        {
            Assert.Throws<NenException>(() => new RowMapper(new[] { new KeyValuePair<string, string>("A", "X"), new KeyValuePair<string, string>("B", "X") }));
        }
    }
}
