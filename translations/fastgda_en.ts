<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>fastgda::ui::DistillDialog</name>
    <message numerus="yes">
        <source>Against the teacher on %n test queries: %1.</source>
        <translation>
            <numerusform>Against the teacher on %n test query: %1.</numerusform>
            <numerusform>Against the teacher on %n test queries: %1.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Cancelled. The student in “%1” is unchanged; the %n finished epoch(s) are kept in a checkpoint, so Train with the same settings resumes from there.</source>
        <translation>
            <numerusform>Cancelled. The student in “%1” is unchanged; the %n finished epoch is kept in a checkpoint, so Train with the same settings resumes from there.</numerusform>
            <numerusform>Cancelled. The student in “%1” is unchanged; the %n finished epochs are kept in a checkpoint, so Train with the same settings resumes from there.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Student “%1” saved: best epoch %2 of %3, validation mAP %4 (the raw %1 features: %5) on %n held-out training queries.</source>
        <translation>
            <numerusform>Student “%1” saved: best epoch %2 of %3, validation mAP %4 (the raw %1 features: %5) on %n held-out training query.</numerusform>
            <numerusform>Student “%1” saved: best epoch %2 of %3, validation mAP %4 (the raw %1 features: %5) on %n held-out training queries.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>fastgda::ui::MainWindow</name>
    <message numerus="yes">
        <source>%n job(s) running</source>
        <translation>
            <numerusform>%n job running</numerusform>
            <numerusform>%n jobs running</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n held-out test queries now have teacher results (Query › Held-out test queries)</source>
        <translation>
            <numerusform>%n held-out test query now has teacher results (Query › Held-out test queries)</numerusform>
            <numerusform>%n held-out test queries now have teacher results (Query › Held-out test queries)</numerusform>
        </translation>
    </message>
</context>
</TS>
