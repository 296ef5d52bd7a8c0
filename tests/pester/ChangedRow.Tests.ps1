#Requires -Version 7.4
# Day two of the README's nightly recipe (run as written, as its scheduler runs it: pwsh -File, its log on stdout),
# against the emulator (its own process, the sample configuration the README's demo uses) and against
# tests/fakes/fake_nen.py, with the journal of day one and a jobs.csv whose JobId 1001 now has another AMOUNT.
# (Acceptance: "4 rows, 1 accepted, 3 already accepted ... no errors", exit 0, and yesterday's files exported as today's.)
# The row is reported by its row and key, nothing is started for it, no file of its earlier run is exported, the
# summary counts it as changed since sent, and the exit code says there was a problem.

BeforeDiscovery {
    $script:servers = @(@{ Kind = 'emulator' }, @{ Kind = 'fake' })
}

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    $script:workflow = '0f6a1f7e-9a55-4c55-8d7e-3b1b2a6f4c21'   # the README's demo workflow
    $script:recipe = (Get-DocExample -Root $script:root | Where-Object { $_.Kind -eq 'readme' -and $_.File -eq 'nightly-export.ps1' }).Code
    $script:recipe | Should -Not -BeNullOrEmpty -Because 'the README has the nightly recipe'

    # The demo CSV's good rows (the FAIL row would make every night exit 1, hiding what day two says).
    function Set-Jobs([string] $Folder, [string] $Amount1001) {
        $rows = Import-Csv -LiteralPath (Join-Path $script:root 'docs/examples/jobs.csv') | Where-Object CUSTOMER_NAME -NE 'FAIL'
        ($rows | Where-Object JobId -EQ '1001').AMOUNT = $Amount1001
        $rows | Export-Csv -LiteralPath (Join-Path $Folder 'jobs.csv') -NoTypeInformation
    }
}

Describe 'Day two of the nightly recipe with a row reused under its key with other values, against the <Kind>' -ForEach $servers {
    BeforeAll {
        if ($Kind -eq 'emulator') {
            $script:server = Start-EmulatorProcess   # the sample configuration: the demo workflow and key
            $keys = @{ NEN_API_KEY = 'nen-demo-api-key'; NEN_SIGNING_KEY = 'nen-demo-signing-key' }
        }
        else {
            $script:server = Start-FakeNen -ArgumentList '--workflow', $script:workflow
            $keys = @{ NEN_API_KEY = $script:server.ApiKeyText; NEN_SIGNING_KEY = $null }
        }
        # The module built in out/ first on the module path, as an installed module is found; the keys as the task's
        # account would have them (no vault here).
        $script:environment = @{ NEN_BASE_URL = $script:server.BaseUri; PSModulePath = (Join-Path $script:root 'out') + [System.IO.Path]::PathSeparator + $env:PSModulePath } + $keys

        function Get-Started {
            if ($Kind -eq 'emulator') { @((Get-EmulatorLedger $script:server.BaseUri).runs).Count } else { @((Get-FakeNenLedger $script:server).runs).Count }
        }

        $script:folder = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "nightly-$Kind")).FullName
        Set-Content -LiteralPath (Join-Path $script:folder 'nightly-export.ps1') -Value $script:recipe -Encoding utf8NoBOM

        function Invoke-Night {
            $run = Invoke-FreshPwsh -File (Join-Path $script:folder 'nightly-export.ps1') -WorkingDirectory $TestDrive -Environment $script:environment
            $run | Add-Member Log (Remove-Ansi $run.Output)
            $run
        }
    }

    AfterAll {
        if ($Kind -eq 'emulator') { Stop-EmulatorProcess $script:server } else { Stop-FakeNen $script:server }
    }

    It 'day one starts every row and exits 0; day two reports JobId 1001 as changed, starts nothing, exports none of its files and exits 1' {
        Set-Jobs $script:folder '120.50'
        $dayOne = Invoke-Night
        $dayOne.ExitCode | Should -Be 0 -Because $dayOne.Log
        $started = Get-Started

        Set-Jobs $script:folder '999'
        $dayTwo = Invoke-Night
        Write-Host "  day two ($Kind): exit $($dayTwo.ExitCode): $(($dayTwo.Log -split "`r?`n" | Where-Object { $_ -match 'error|Start-NenRun:' }) -join ' | ')"

        $dayTwo.ExitCode | Should -Be 1 -Because "a row that was not what was sent is a problem of the night: $($dayTwo.Log)"
        $lines = @($dayTwo.Log -split "`r?`n" | Where-Object { $_ })
        $changed = @($lines | Where-Object { $_ -match ' error NenRowChangedSinceSent,NenAi\.Commands\.StartNenRunCommand: Row 1 \(JobId 1001\): ' })
        $changed | Should -HaveCount 1 -Because ($lines -join "`n")
        $changed[0] | Should -Match "key '1001'"
        $changed[0] | Should -Match 'give it a new key'
        # Values standing alone: a time in the line ('00:45:42.9991829') may hold the digits.
        $changed[0] | Should -Not -Match '(?<![\w.:])(999|120\.50)(?!\w|\.\d)' -Because 'no value is shown'
        @($lines | Where-Object { $_ -match ' error ' }) | Should -HaveCount 1 -Because 'the other rows are what was sent'
        @($lines | Where-Object { $_ -match ' Start-NenRun: 3 rows, 0 accepted, 2 already accepted, 1 changed since sent, 0 failed' }) | Should -HaveCount 1 -Because ($lines -join "`n")
        Get-Started | Should -Be $started -Because 'nothing is started for the changed row'
        (Import-Csv -LiteralPath (Join-Path $script:folder 'nightly-files.csv')).RowKey | Sort-Object -Unique | Should -Be @('1002', '1003') -Because 'no file of 1001''s earlier run is exported as today''s'
        $dayTwo.Errors | Should -BeNullOrEmpty
    }
}
