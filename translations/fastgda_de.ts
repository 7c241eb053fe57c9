<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de" sourcelanguage="en">
<context>
    <name>Charts</name>
    <message>
        <source>students (tuned)</source>
        <translation>Schüler (trainiert)</translation>
    </message>
    <message>
        <source>teacher</source>
        <translation>Lehrer</translation>
    </message>
    <message>
        <source>raw feature spaces</source>
        <translation>rohe Merkmalsräume</translation>
    </message>
    <message>
        <source>random</source>
        <translation>Zufall</translation>
    </message>
    <message>
        <source>Teacher&apos;s influence scores, top %1 marked</source>
        <translation>Einflusswerte des Lehrers, Top %1 markiert</translation>
    </message>
    <message>
        <source>training images</source>
        <translation>Trainingsbilder</translation>
    </message>
    <message>
        <source>the teacher&apos;s top %1</source>
        <translation>Top %1 des Lehrers</translation>
    </message>
    <message>
        <source>score of rank %1: %2</source>
        <translation>Wert von Rang %1: %2</translation>
    </message>
    <message>
        <source>influence score (diffusion loss increase after unlearning)</source>
        <translation>Einflusswert (Anstieg des Diffusionsverlusts nach dem Verlernen)</translation>
    </message>
    <message>
        <source>training images per bin</source>
        <translation>Trainingsbilder je Klasse</translation>
    </message>
    <message>
        <source>Teacher rank against student score</source>
        <translation>Lehrer-Rang gegen Schüler-Wert</translation>
    </message>
    <message>
        <source>Spearman ρ: %1 over all images, %2 over the teacher&apos;s top %L3</source>
        <translation>Spearman-ρ: %1 über alle Bilder, %2 über die Top %L3 des Lehrers</translation>
    </message>
    <message>
        <source>teacher rank (1 = most influential)</source>
        <translation>Lehrer-Rang (1 = größter Einfluss)</translation>
    </message>
    <message>
        <source>student score (scaled cosine similarity)</source>
        <translation>Schüler-Wert (skalierte Kosinus-Ähnlichkeit)</translation>
    </message>
    <message>
        <source>Student against the teacher&apos;s top %1</source>
        <translation>Schüler gegen die Top %1 des Lehrers</translation>
    </message>
    <message>
        <source>student precision@k</source>
        <translation>Schüler: Präzision@k</translation>
    </message>
    <message>
        <source>student recall@k</source>
        <translation>Schüler: Trefferquote@k</translation>
    </message>
    <message>
        <source>random precision@k</source>
        <translation>Zufall: Präzision@k</translation>
    </message>
    <message>
        <source>random recall@k</source>
        <translation>Zufall: Trefferquote@k</translation>
    </message>
    <message>
        <source>k (images taken from the top of the student&apos;s ranking)</source>
        <translation>k (Bilder von der Spitze der Schüler-Rangfolge)</translation>
    </message>
    <message>
        <source>precision and recall (share)</source>
        <translation>Präzision und Trefferquote (Anteil)</translation>
    </message>
    <message>
        <source>mAP@%1</source>
        <translation>mAP@%1</translation>
    </message>
    <message>
        <source>mAP@k against the teacher</source>
        <translation>mAP@k gegen den Lehrer</translation>
    </message>
    <message>
        <source>Attribution quality against speed (mAP@%1, %2 test queries)</source>
        <translation>Attributionsqualität gegen Tempo (mAP@%1, %2 Testabfragen)</translation>
    </message>
    <message>
        <source>throughput (queries per second, log scale)</source>
        <translation>Durchsatz (Abfragen pro Sekunde, logarithmisch)</translation>
    </message>
    <message>
        <source>mAP@%1 against the teacher</source>
        <translation>mAP@%1 gegen den Lehrer</translation>
    </message>
    <message>
        <source>Agreement with the teacher (%1 test queries)</source>
        <translation>Übereinstimmung mit dem Lehrer (%1 Testabfragen)</translation>
    </message>
    <message>
        <source>ΔL: query loss increase (× 10⁻³)</source>
        <translation>ΔL: Anstieg des Abfrageverlusts (× 10⁻³)</translation>
    </message>
    <message>
        <source>ΔL beyond the control images (× 10⁻³)</source>
        <translation>ΔL über den Kontrollbildern (× 10⁻³)</translation>
    </message>
    <message>
        <source>ΔG: pixel MSE of the regenerated query (× 10⁻³)</source>
        <translation>ΔG: Pixel-MSE der neu generierten Abfrage (× 10⁻³)</translation>
    </message>
    <message>
        <source>ΔG: cnn cosine distance of the regenerated query</source>
        <translation>ΔG: cnn-Kosinusabstand der neu generierten Abfrage</translation>
    </message>
    <message>
        <source>Retrained without each method&apos;s top %1: how much of the query is lost</source>
        <translation>Neu trainiert ohne die Top %1 jeder Methode: wie viel der Abfrage verloren geht</translation>
    </message>
    <message>
        <source>The student against how much teacher data it had (%1, %2 test queries)</source>
        <translation>Der Schüler abhängig von seiner Menge an Lehrerdaten (%1, %2 Testabfragen)</translation>
    </message>
    <message>
        <source>%1 queries: mAP@%2 %3 ± %4</source>
        <translation>%1 Abfragen: mAP@%2 %3 ± %4</translation>
    </message>
    <message>
        <source>student, test queries</source>
        <translation>Schüler, Testabfragen</translation>
    </message>
    <message>
        <source>trend: %1 + %2 × log10(queries), r² %3</source>
        <translation>Trend: %1 + %2 × log10(Abfragen), r² %3</translation>
    </message>
    <message>
        <source>raw features (%1)</source>
        <translation>Rohmerkmale (%1)</translation>
    </message>
    <message>
        <source>teacher run again (the ceiling)</source>
        <translation>Lehrer erneut ausgeführt (die Obergrenze)</translation>
    </message>
    <message>
        <source>teacher training queries (log scale)</source>
        <translation>Trainingsabfragen des Lehrers (logarithmisch)</translation>
    </message>
    <message>
        <source>Retrained without each method&apos;s top %1 beyond the query&apos;s family</source>
        <translation>Neu trainiert ohne die Top %1 jeder Methode jenseits der Familie der Abfrage</translation>
    </message>
    <message>
        <source>null: the other group&apos;s arm</source>
        <translation>Null: der Arm der anderen Gruppe</translation>
    </message>
    <message>
        <source>%1, null: %2 ± %3 × 10⁻³</source>
        <translation>%1, Null: %2 ± %3 × 10⁻³</translation>
    </message>
    <message>
        <source>epoch</source>
        <translation>Epoche</translation>
    </message>
    <message>
        <source>loss (binary cross-entropy)</source>
        <translation>Verlust (binäre Kreuzentropie)</translation>
    </message>
    <message>
        <source>validation mAP</source>
        <translation>Validierungs-mAP</translation>
    </message>
    <message>
        <source>train loss</source>
        <translation>Trainingsverlust</translation>
    </message>
    <message>
        <source>validation loss</source>
        <translation>Validierungsverlust</translation>
    </message>
    <message>
        <source>scores %1 to %2: %L3 images, %L4 of them in the top %5</source>
        <translation>Werte %1 bis %2: %L3 Bilder, %L4 davon unter den besten %5</translation>
    </message>
</context>
<context>
    <name>Export</name>
    <message>
        <source>Query</source>
        <translation>Abfrage</translation>
    </message>
    <message>
        <source>Attribution report: %1</source>
        <translation>Attributionsbericht: %1</translation>
    </message>
    <message>
        <source>Training set: %L1 images</source>
        <translation>Trainingsdaten: %L1 Bilder</translation>
    </message>
    <message>
        <source>%1 %2 s</source>
        <translation>%1 %2 s</translation>
    </message>
    <message>
        <source>%1: %2; settings %3</source>
        <translation>%1: %2; Einstellungen %3</translation>
    </message>
</context>
<context>
    <name>QueryDisplay</name>
    <message>
        <source>Generated from “%1”
seed %2 · %3 steps · guidance %4</source>
        <translation>Generiert aus „%1“
Seed %2 · %3 Schritte · Guidance %4</translation>
    </message>
    <message>
        <source>Training image %1
“%2”</source>
        <translation>Trainingsbild %1
„%2“</translation>
    </message>
    <message>
        <source>%1
prompt: “%2”</source>
        <translation>%1
Prompt: „%2“</translation>
    </message>
</context>
<context>
    <name>fastgda::core</name>
    <message>
        <source>features of the training set (%1)</source>
        <translation>Merkmale der Trainingsmenge (%1)</translation>
    </message>
    <message>
        <source>sampling</source>
        <translation>Sampling</translation>
    </message>
    <message>
        <source>the bundle has no student yet (train one with `fastgda distill`)</source>
        <translation>das Bündel hat noch keinen Schüler (trainieren Sie einen mit `fastgda distill`)</translation>
    </message>
    <message>
        <source>saving and indexing the student</source>
        <translation>Schüler wird gespeichert und indiziert</translation>
    </message>
    <message>
        <source>distilling: epoch %1/%2</source>
        <translation>Destillieren: Epoche %1/%2</translation>
    </message>
    <message>
        <source>losses before unlearning (once per model)</source>
        <translation>Verluste vor dem Verlernen (einmal pro Modell)</translation>
    </message>
    <message>
        <source>Fisher information (once per model)</source>
        <translation>Fisher-Information (einmal pro Modell)</translation>
    </message>
    <message>
        <source>EK-FAC covariances (once per model)</source>
        <translation>EK-FAC-Kovarianzen (einmal pro Modell)</translation>
    </message>
    <message>
        <source>EK-FAC eigenvalues (once per model)</source>
        <translation>EK-FAC-Eigenwerte (einmal pro Modell)</translation>
    </message>
    <message>
        <source>unlearning the query</source>
        <translation>Anfrage wird verlernt</translation>
    </message>
    <message>
        <source>losses after unlearning</source>
        <translation>Verluste nach dem Verlernen</translation>
    </message>
    <message>
        <source>waiting for the model: another job is using it</source>
        <translation>wartet auf das Modell: ein anderer Auftrag verwendet es</translation>
    </message>
</context>
<context>
    <name>fastgda::eval</name>
    <message>
        <source>evaluating %1</source>
        <translation>Bewerte %1</translation>
    </message>
    <message>
        <source>evaluated</source>
        <translation>bewertet</translation>
    </message>
</context>
<context>
    <name>fastgda::methods</name>
    <message>
        <source>Teacher (unlearning)</source>
        <translation>Lehrer (Verlernen)</translation>
    </message>
    <message>
        <source>Teacher (%1)</source>
        <translation>Lehrer (%1)</translation>
    </message>
    <message>
        <source>Student (FastGDA)</source>
        <translation>Schüler (FastGDA)</translation>
    </message>
    <message>
        <source>Student (FastGDA, %1)</source>
        <translation>Schüler (FastGDA, %1)</translation>
    </message>
    <message>
        <source>Imported features (%1)</source>
        <translation>Importierte Merkmale (%1)</translation>
    </message>
    <message>
        <source>Raw features (%1)</source>
        <translation>Rohmerkmale (%1)</translation>
    </message>
    <message>
        <source>Random</source>
        <translation>Zufall</translation>
    </message>
    <message>
        <source>Imported rankings (%1)</source>
        <translation>Importierte Rangfolgen (%1)</translation>
    </message>
    <message>
        <source>Student (%1)</source>
        <translation>Schüler (%1)</translation>
    </message>
    <message>
        <source>Random of its subcategory</source>
        <translation>Zufall aus ihrer Unterkategorie</translation>
    </message>
    <message>
        <source>The query&apos;s family</source>
        <translation>Die Familie der Abfrage</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::AblationView</name>
    <message>
        <source>&amp;Recompute</source>
        <translation>&amp;Neu berechnen</translation>
    </message>
    <message>
        <source>Evaluate again if students or teacher results changed</source>
        <translation>Erneut auswerten, wenn sich Schüler oder Lehrer-Ergebnisse geändert haben</translation>
    </message>
    <message>
        <source>Export table…</source>
        <translation>Tabelle exportieren…</translation>
    </message>
    <message>
        <source>The k of mAP@k in the trade-off chart</source>
        <translation>Das k von mAP@k im Qualität-Tempo-Diagramm</translation>
    </message>
    <message>
        <source>Trade-off at</source>
        <translation>Qualität-Tempo bei</translation>
    </message>
    <message>
        <source>Export the ablation table</source>
        <translation>Ablationstabelle exportieren</translation>
    </message>
    <message>
        <source>CSV table (*.csv)</source>
        <translation>CSV-Tabelle (*.csv)</translation>
    </message>
    <message>
        <source>Cannot export</source>
        <translation>Export nicht möglich</translation>
    </message>
    <message>
        <source>Not evaluated yet.</source>
        <translation>Noch nicht ausgewertet.</translation>
    </message>
    <message>
        <source>mAP@%1</source>
        <translation>mAP@%1</translation>
    </message>
    <message>
        <source>%1 methods on %2 held-out test queries over %L3 training images.</source>
        <translation>%1 Methoden auf %2 zurückgehaltenen Testabfragen über %L3 Trainingsbilder.</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>Methode</translation>
    </message>
    <message>
        <source>Family p@10</source>
        <translation>Familien-P@10</translation>
    </message>
    <message>
        <source>ms per query</source>
        <translation>ms pro Abfrage</translation>
    </message>
    <message>
        <source>Queries per second</source>
        <translation>Abfragen pro Sekunde</translation>
    </message>
    <message>
        <source>Storage</source>
        <translation>Speicher</translation>
    </message>
    <message>
        <source>Test queries</source>
        <translation>Testabfragen</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::AttributionView</name>
    <message>
        <source>Run teacher</source>
        <translation>Lehrer starten</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Rank every training image with the slow, accurate teacher (Ctrl+T). The result is saved in the bundle and shown at once next time.</source>
        <translation>Die Rangfolge aller Trainingsbilder mit dem langsamen, genauen Lehrer berechnen (Strg+T). Das Ergebnis wird im Bundle gespeichert und beim nächsten Mal sofort angezeigt.</translation>
    </message>
    <message>
        <source>Stop the teacher (Esc); nothing is saved.</source>
        <translation>Lehrer anhalten (Esc); es wird nichts gespeichert.</translation>
    </message>
    <message>
        <source>Query</source>
        <translation>Abfrage</translation>
    </message>
    <message>
        <source>Selected result</source>
        <translation>Ausgewähltes Ergebnis</translation>
    </message>
    <message>
        <source>&lt;span style=&quot;color:%1&quot;&gt;■&lt;/span&gt; found by both methods · scores: higher = more influential · click a result to see it large</source>
        <translation>&lt;span style=&quot;color:%1&quot;&gt;■&lt;/span&gt; von beiden Methoden gefunden · Scores: höher = einflussreicher · Ergebnis anklicken für eine große Ansicht</translation>
    </message>
    <message>
        <source>Student</source>
        <translation>Schüler</translation>
    </message>
    <message>
        <source>Teacher</source>
        <translation>Lehrer</translation>
    </message>
    <message>
        <source>No query yet. Generate an image (Ctrl+G), right-click a training image and choose &quot;Attribute this&quot;, or open or drop an image file.</source>
        <translation>Noch keine Abfrage. Generieren Sie ein Bild (Strg+G), klicken Sie mit der rechten Maustaste auf ein Trainingsbild und wählen Sie „Attribuieren“, oder öffnen Sie eine Bilddatei bzw. ziehen Sie sie hierher.</translation>
    </message>
    <message>
        <source>The student&apos;s answer appears here as soon as there is a query.</source>
        <translation>Die Antwort des Schülers erscheint hier, sobald es eine Abfrage gibt.</translation>
    </message>
    <message>
        <source>The teacher&apos;s ranking appears here once it has run.</source>
        <translation>Die Rangfolge des Lehrers erscheint hier, sobald er gelaufen ist.</translation>
    </message>
    <message>
        <source>Click a result to see it here.</source>
        <translation>Klicken Sie auf ein Ergebnis, um es hier zu sehen.</translation>
    </message>
    <message>
        <source>Student (FastGDA): top %1</source>
        <translation>Schüler (FastGDA): Top %1</translation>
    </message>
    <message>
        <source>Student (FastGDA, %1 features): top %2</source>
        <translation>Schüler (FastGDA, Merkmale: %1): Top %2</translation>
    </message>
    <message>
        <source>Teacher (attribution by unlearning): top %1</source>
        <translation>Lehrer (Attribution durch Verlernen): Top %1</translation>
    </message>
    <message>
        <source>starting…</source>
        <translation>wird gestartet…</translation>
    </message>
    <message>
        <source>%1 · %2 left</source>
        <translation>%1 · noch %2</translation>
    </message>
    <message>
        <source>%1 rank %2, score %3</source>
        <translation>%1: Rang %2, Score %3</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::ChartView</name>
    <message>
        <source>Export %1</source>
        <translation>%1 exportieren</translation>
    </message>
    <message>
        <source>PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf);;Chart data, CSV (*.csv)</source>
        <translation>PNG-Bild (*.png);;SVG-Zeichnung (*.svg);;PDF-Dokument (*.pdf);;Diagrammdaten, CSV (*.csv)</translation>
    </message>
    <message>
        <source>Cannot export</source>
        <translation>Export nicht möglich</translation>
    </message>
    <message>
        <source>Reset zoom</source>
        <translation>Zoom zurücksetzen</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Exportieren…</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::CounterfactualView</name>
    <message>
        <source>without random images</source>
        <translation>ohne zufällige Bilder</translation>
    </message>
    <message>
        <source>A held-out test query of the check</source>
        <translation>Eine zurückgehaltene Testabfrage der Prüfung</translation>
    </message>
    <message>
        <source>Query:</source>
        <translation>Abfrage:</translation>
    </message>
    <message>
        <source>Measure:</source>
        <translation>Maß:</translation>
    </message>
    <message>
        <source>This bundle has no counterfactual check yet. Fix its protocol with `fastgda counterfactual plan`, retrain each arm with `fastgda counterfactual train --all` (about 1.5 hours per arm on two cores), then `fastgda counterfactual measure --all`.</source>
        <translation>Dieses Bundle hat noch keine kontrafaktische Prüfung. Legen Sie ihr Protokoll mit `fastgda counterfactual plan` fest, trainieren Sie jeden Arm mit `fastgda counterfactual train --all` neu (etwa 1,5 Stunden pro Arm auf zwei Kernen), dann `fastgda counterfactual measure --all`.</translation>
    </message>
    <message>
        <source>Each model was retrained from scratch without the union of its method&apos;s top %1 for the query&apos;s group of %2 similar test queries (grouped removal overstates one query&apos;s own effect). ΔL: the query&apos;s diffusion loss increase over the full-data retrain, under noise shared by every model.</source>
        <translation>Jedes Modell wurde von Grund auf neu trainiert, ohne die Vereinigung der Top %1 seiner Methode für die Gruppe der Abfrage aus %2 ähnlichen Testabfragen (das Entfernen je Gruppe überschätzt die Wirkung einer einzelnen Abfrage). ΔL: der Anstieg des Diffusionsverlusts der Abfrage gegenüber dem Neutraining mit allen Daten, unter für alle Modelle gleichem Rauschen.</translation>
    </message>
    <message>
        <source>Not measured yet: %1.</source>
        <translation>Noch nicht gemessen: %1.</translation>
    </message>
    <message>
        <source>Cannot read the counterfactual check: %1</source>
        <translation>Die kontrafaktische Prüfung kann nicht gelesen werden: %1</translation>
    </message>
    <message>
        <source>reference retrain (nothing removed)</source>
        <translation>Referenz-Neutraining (nichts entfernt)</translation>
    </message>
    <message>
        <source>(no image: %1)</source>
        <translation>(kein Bild: %1)</translation>
    </message>
    <message>
        <source>#%1 by the teacher: %2</source>
        <translation>Nr. %1 des Lehrers: %2</translation>
    </message>
    <message>
        <source>This query&apos;s top %1 by the teacher, all removed by the teacher&apos;s arm; framed: the %2 that the student&apos;s arm removed too.</source>
        <translation>Die Top %1 dieser Abfrage laut Lehrer, alle vom Arm des Lehrers entfernt; umrahmt: die %2, die auch der Arm des Schülers entfernt hat.</translation>
    </message>
    <message>
        <source>The plan has no teacher arm for this query.</source>
        <translation>Der Plan hat für diese Abfrage keinen Arm des Lehrers.</translation>
    </message>
    <message>
        <source>without random images of its subcategory</source>
        <translation>ohne zufällige Bilder ihrer Unterkategorie</translation>
    </message>
    <message>
        <source>without its family</source>
        <translation>ohne ihre Familie</translation>
    </message>
    <message>
        <source>without the teacher&apos;s top %1</source>
        <translation>ohne die Top %1 des Lehrers</translation>
    </message>
    <message>
        <source>without the student&apos;s top %1</source>
        <translation>ohne die Top %1 des Schülers</translation>
    </message>
    <message>
        <source>without the top %1 of %2</source>
        <translation>ohne die Top %1 von %2</translation>
    </message>
    <message>
        <source>Protocol 2 removes each method&apos;s top images; protocol 3 removes them beyond the query&apos;s own family, beside the family itself and random images of its subcategory</source>
        <translation>Protokoll 2 entfernt die Top-Bilder jeder Methode; Protokoll 3 entfernt sie jenseits der eigenen Familie der Abfrage, neben der Familie selbst und zufälligen Bildern ihrer Unterkategorie</translation>
    </message>
    <message>
        <source>Protocol %1</source>
        <translation>Protokoll %1</translation>
    </message>
    <message>
        <source>No method is measured yet. Retrain the arms (`fastgda counterfactual train%1 --all`) and measure them (`fastgda counterfactual measure%1 --all`).</source>
        <translation>Noch keine Methode gemessen. Trainieren Sie die Arme neu (`fastgda counterfactual train%1 --all`) und messen Sie sie (`fastgda counterfactual measure%1 --all`).</translation>
    </message>
    <message>
        <source>Each model was retrained from scratch without, for every query of its group of %2: the query&apos;s own family; a method&apos;s top %1 once the family is out of its ranking; or as many random images of the query&apos;s subcategory. Every model is measured on every query: the other group&apos;s models give the null (removals unrelated to the query). ΔL: the query&apos;s diffusion loss increase over the full-data retrain, under noise shared by every model.</source>
        <translation>Jedes Modell wurde von Grund auf neu trainiert, ohne – für jede Abfrage seiner Gruppe aus %2 – die eigene Familie der Abfrage, die Top %1 einer Methode, nachdem die Familie aus ihrer Rangfolge genommen ist, oder ebenso viele zufällige Bilder der Unterkategorie der Abfrage. Jedes Modell wird auf jeder Abfrage gemessen: Die Modelle der anderen Gruppe liefern die Null (Entfernungen ohne Bezug zur Abfrage). ΔL: der Anstieg des Diffusionsverlusts der Abfrage gegenüber dem Neutraining mit allen Daten, unter für alle Modelle gleichem Rauschen.</translation>
    </message>
    <message>
        <source>%1 “%2” (group %3)</source>
        <translation>%1 „%2“ (Gruppe %3)</translation>
    </message>
    <message>
        <source>%1
ΔL = %2 × 10⁻³, ΔG (pixel MSE) = %3 × 10⁻³</source>
        <translation>%1
ΔL = %2 × 10⁻³, ΔG (Pixel-MSE) = %3 × 10⁻³</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::DatasetModel</name>
    <message>
        <source>%1
style: %2 · category: %3 · family %4</source>
        <translation>%1
Stil: %2 · Kategorie: %3 · Familie %4</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::DistillDialog</name>
    <message>
        <source>&amp;Train</source>
        <translation>&amp;Trainieren</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Schließen</translation>
    </message>
    <message>
        <source>Distil a student</source>
        <translation>Schüler destillieren</translation>
    </message>
    <message>
        <source>The features the student learns on: text (the caption), latent (the autoencoder&apos;s latent), cnn (a classifier&apos;s features), hog (shape and colour), torchscript:FILE (your own image encoder), or several joined with +, e.g. cnn+text</source>
        <translation>Die Merkmale, auf denen der Schüler lernt: text (die Bildunterschrift), latent (der Latentraum des Autoencoders), cnn (Merkmale eines Klassifikators), hog (Form und Farbe), torchscript:DATEI (Ihr eigener Bild-Encoder) oder mehrere mit + verbunden, z. B. cnn+text</translation>
    </message>
    <message>
        <source>TorchScript…</source>
        <translation>TorchScript…</translation>
    </message>
    <message>
        <source>Use your own image encoder, saved as TorchScript</source>
        <translation>Eigenen Bild-Encoder verwenden, als TorchScript gespeichert</translation>
    </message>
    <message>
        <source>An image encoder saved as TorchScript</source>
        <translation>Ein als TorchScript gespeicherter Bild-Encoder</translation>
    </message>
    <message>
        <source>TorchScript modules (*.pt *.pth *.ts);;All files (*)</source>
        <translation>TorchScript-Module (*.pt *.pth *.ts);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Widths of the student&apos;s hidden layers, separated by commas, e.g. 512,512</source>
        <translation>Breiten der verborgenen Schichten des Schülers, durch Kommas getrennt, z. B. 512,512</translation>
    </message>
    <message>
        <source>Passes over the teacher&apos;s rankings; the epoch with the best validation mAP is kept</source>
        <translation>Durchläufe über die Rangfolgen des Lehrers; die Epoche mit dem besten Validierungs-mAP wird behalten</translation>
    </message>
    <message>
        <source>Share of training pairs whose image is replaced by a random one outside the teacher&apos;s candidates, labelled as not influential</source>
        <translation>Anteil der Trainingspaare, deren Bild durch ein zufälliges außerhalb der Kandidaten des Lehrers ersetzt und als nicht einflussreich markiert wird</translation>
    </message>
    <message>
        <source>&amp;Feature space</source>
        <translation>&amp;Merkmalsraum</translation>
    </message>
    <message>
        <source>&amp;Hidden sizes</source>
        <translation>&amp;Verborgene Schichten</translation>
    </message>
    <message>
        <source>&amp;Epochs</source>
        <translation>&amp;Epochen</translation>
    </message>
    <message>
        <source>&amp;Outlier rate</source>
        <translation>&amp;Ausreißeranteil</translation>
    </message>
    <message>
        <source>Distil the teacher&apos;s rankings (&lt;bundle&gt;/teacher/train) into a student in this feature space; it is saved in the bundle and indexed for search</source>
        <translation>Die Rangfolgen des Lehrers (&lt;bundle&gt;/teacher/train) in einen Schüler in diesem Merkmalsraum destillieren; er wird im Bundle gespeichert und für die Suche indiziert</translation>
    </message>
    <message>
        <source>Open a bundle first.</source>
        <translation>Öffnen Sie zuerst ein Bundle.</translation>
    </message>
    <message>
        <source>This bundle has no model, so its features cannot be computed: no student can be distilled in it.</source>
        <translation>Dieses Bundle hat kein Modell, daher können seine Merkmale nicht berechnet werden: in ihm kann kein Schüler destilliert werden.</translation>
    </message>
    <message>
        <source>Hidden sizes: “%1” is not a layer width (a whole number from 1 to 1,000,000). Give the widths separated by commas, e.g. 512,512.</source>
        <translation>Verborgene Schichten: „%1“ ist keine Schichtbreite (eine ganze Zahl von 1 bis 1.000.000). Geben Sie die Breiten durch Kommas getrennt an, z. B. 512,512.</translation>
    </message>
    <message>
        <source>This bundle has no model, so its features cannot be computed.</source>
        <translation>Dieses Bundle hat kein Modell, daher können seine Merkmale nicht berechnet werden.</translation>
    </message>
    <message>
        <source>Replace the student?</source>
        <translation>Schüler ersetzen?</translation>
    </message>
    <message>
        <source>The bundle already has a student in the feature space “%1”. The new one replaces it (its weights, loss curve and index) once training has finished; if you cancel, the present one stays.</source>
        <translation>Das Bundle hat bereits einen Schüler im Merkmalsraum „%1“. Der neue ersetzt ihn (Gewichte, Verlustkurve und Index), sobald das Training beendet ist; wenn Sie abbrechen, bleibt der jetzige.</translation>
    </message>
    <message>
        <source>&amp;Replace</source>
        <translation>&amp;Ersetzen</translation>
    </message>
    <message>
        <source>Not started: the present student stays.</source>
        <translation>Nicht gestartet: der jetzige Schüler bleibt.</translation>
    </message>
    <message>
        <source>Computing the features of the training set and the teacher&apos;s queries…</source>
        <translation>Die Merkmale der Trainingsdaten und der Abfragen des Lehrers werden berechnet…</translation>
    </message>
    <message>
        <source>Distil a student: %1</source>
        <translation>Schüler destillieren: %1</translation>
    </message>
    <message>
        <source>, about %1 left</source>
        <translation>, noch etwa %1</translation>
    </message>
    <message>
        <source>Training: epoch %1 of %2 (%3%)%4</source>
        <translation>Training: Epoche %1 von %2 (%3 %)%4</translation>
    </message>
    <message>
        <source>Student “%1” saved after %2 epochs (no validation queries, so the last epoch&apos;s weights).</source>
        <translation>Schüler „%1“ nach %2 Epochen gespeichert (keine Validierungsabfragen, daher die Gewichte der letzten Epoche).</translation>
    </message>
    <message>
        <source>Epochs 1 to %1 came from the checkpoint of an earlier run with the same settings.</source>
        <translation>Die Epochen 1 bis %1 stammen aus dem Zwischenstand eines früheren Laufs mit denselben Einstellungen.</translation>
    </message>
    <message>
        <source>It is the bundle&apos;s default student now.</source>
        <translation>Er ist jetzt der Standard-Schüler des Bundles.</translation>
    </message>
    <message>
        <source>It took %1.</source>
        <translation>Dauer: %1.</translation>
    </message>
    <message>
        <source>Evaluating the student against the teacher on the held-out test queries…</source>
        <translation>Der Schüler wird auf den zurückgehaltenen Testabfragen gegen den Lehrer ausgewertet…</translation>
    </message>
    <message>
        <source>Evaluate the student: %1</source>
        <translation>Schüler auswerten: %1</translation>
    </message>
    <message>
        <source>The student is saved, but was not evaluated: %1</source>
        <translation>Der Schüler ist gespeichert, wurde aber nicht ausgewertet: %1</translation>
    </message>
    <message>
        <source>mAP@%1 %2 ± %3</source>
        <translation>mAP@%1 %2 ± %3</translation>
    </message>
    <message numerus="yes">
        <source>Against the teacher on %n test queries: %1.</source>
        <translation>
            <numerusform>Gegen den Lehrer auf %n Testabfrage: %1.</numerusform>
            <numerusform>Gegen den Lehrer auf %n Testabfragen: %1.</numerusform>
        </translation>
    </message>
    <message>
        <source>Done.</source>
        <translation>Fertig.</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Wird abgebrochen…</translation>
    </message>
    <message>
        <source>Preparing: %1</source>
        <translation>Vorbereitung: %1</translation>
    </message>
    <message numerus="yes">
        <source>Cancelled. The student in “%1” is unchanged; the %n finished epoch(s) are kept in a checkpoint, so Train with the same settings resumes from there.</source>
        <translation>
            <numerusform>Abgebrochen. Der Schüler in „%1“ ist unverändert; die %n fertige Epoche bleibt in einem Zwischenstand, daher setzt Trainieren mit denselben Einstellungen dort fort.</numerusform>
            <numerusform>Abgebrochen. Der Schüler in „%1“ ist unverändert; die %n fertigen Epochen bleiben in einem Zwischenstand, daher setzt Trainieren mit denselben Einstellungen dort fort.</numerusform>
        </translation>
    </message>
    <message>
        <source>Cancelled. The student in “%1” is unchanged.</source>
        <translation>Abgebrochen. Der Schüler in „%1“ ist unverändert.</translation>
    </message>
    <message>
        <source>Training failed: %1</source>
        <translation>Training fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Evaluation cancelled; the student is saved.</source>
        <translation>Auswertung abgebrochen; der Schüler ist gespeichert.</translation>
    </message>
    <message>
        <source>The student is saved, but evaluating it failed: %1</source>
        <translation>Der Schüler ist gespeichert, aber seine Auswertung ist fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Stop training; the bundle&apos;s students stay as they are</source>
        <translation>Training anhalten; die Schüler des Bundles bleiben, wie sie sind</translation>
    </message>
    <message numerus="yes">
        <source>Student “%1” saved: best epoch %2 of %3, validation mAP %4 (the raw %1 features: %5) on %n held-out training queries.</source>
        <translation>
            <numerusform>Schüler „%1“ gespeichert: beste Epoche %2 von %3, Validierungs-mAP %4 (die rohen %1-Merkmale: %5) auf %n zurückgehaltenen Trainingsabfrage.</numerusform>
            <numerusform>Schüler „%1“ gespeichert: beste Epoche %2 von %3, Validierungs-mAP %4 (die rohen %1-Merkmale: %5) auf %n zurückgehaltenen Trainingsabfragen.</numerusform>
        </translation>
    </message>
    <message>
        <source>AdamW&apos;s learning rate (the shipped student&apos;s: %1)</source>
        <translation>Lernrate von AdamW (die des mitgelieferten Studenten: %1)</translation>
    </message>
    <message>
        <source>&amp;Learning rate</source>
        <translation>&amp;Lernrate</translation>
    </message>
    <message>
        <source>Distillation</source>
        <translation>Destillation</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::ImageDetails</name>
    <message>
        <source>Style: %1</source>
        <translation>Stil: %1</translation>
    </message>
    <message>
        <source>Category: %1</source>
        <translation>Kategorie: %1</translation>
    </message>
    <message>
        <source>Subcategory: %1</source>
        <translation>Unterkategorie: %1</translation>
    </message>
    <message>
        <source>Family: %1</source>
        <translation>Familie: %1</translation>
    </message>
    <message>
        <source>Training image %1 (id %2)</source>
        <translation>Trainingsbild %1 (ID %2)</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::JobManager</name>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 min %2 s</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 h %2 min</translation>
    </message>
    <message>
        <source>unknown error</source>
        <translation>unbekannter Fehler</translation>
    </message>
    <message>
        <source>cancelling…</source>
        <translation>wird abgebrochen…</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>abgebrochen</translation>
    </message>
    <message>
        <source>done</source>
        <translation>fertig</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>fehlgeschlagen</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::JobsWidget</name>
    <message>
        <source>Job</source>
        <translation>Auftrag</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Fortschritt</translation>
    </message>
    <message>
        <source>Stage</source>
        <translation>Phase</translation>
    </message>
    <message>
        <source>Time · ETA</source>
        <translation>Zeit · Restzeit</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Stop this job</source>
        <translation>Diesen Auftrag anhalten</translation>
    </message>
    <message>
        <source>%1 · %2 left</source>
        <translation>%1 · noch %2</translation>
    </message>
    <message>
        <source>Cancel this batch on the cluster (scancel)</source>
        <translation>Diesen Stapel auf dem Cluster abbrechen (scancel)</translation>
    </message>
    <message>
        <source>Slurm: %1 (job %2)</source>
        <translation>Slurm: %1 (Job %2)</translation>
    </message>
    <message>
        <source>Clear finished jobs</source>
        <translation>Beendete Aufträge entfernen</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::MainWindow</name>
    <message>
        <source>FastGDA Studio</source>
        <translation>FastGDA Studio</translation>
    </message>
    <message>
        <source>&amp;Attribution</source>
        <translation>Attri&amp;bution</translation>
    </message>
    <message>
        <source>Background jobs; see the Jobs panel (View menu) to cancel them.</source>
        <translation>Hintergrundaufträge; abbrechen lassen sie sich im Bereich „Aufträge“ (Menü „Ansicht“).</translation>
    </message>
    <message>
        <source>%1 failed</source>
        <translation>%1 fehlgeschlagen</translation>
    </message>
    <message>
        <source>&amp;Training set</source>
        <translation>&amp;Trainingsdaten</translation>
    </message>
    <message>
        <source>Query</source>
        <translation>Abfrage</translation>
    </message>
    <message>
        <source>Recent queries: click one to see its results again</source>
        <translation>Letzte Abfragen: Klicken Sie auf eine, um ihre Ergebnisse erneut zu sehen</translation>
    </message>
    <message>
        <source>History</source>
        <translation>Verlauf</translation>
    </message>
    <message>
        <source>Jobs</source>
        <translation>Aufträge</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>&amp;Open bundle…</source>
        <translation>Bundle ö&amp;ffnen…</translation>
    </message>
    <message>
        <source>Open a bundle folder (a model with its training set)</source>
        <translation>Einen Bundle-Ordner öffnen (ein Modell mit seinen Trainingsdaten)</translation>
    </message>
    <message>
        <source>Open &amp;recent</source>
        <translation>&amp;Zuletzt geöffnet</translation>
    </message>
    <message>
        <source>Open &amp;image…</source>
        <translation>B&amp;ild öffnen…</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>&amp;Einstellungen…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;Query</source>
        <translation>Ab&amp;frage</translation>
    </message>
    <message>
        <source>&amp;Generate</source>
        <translation>&amp;Generieren</translation>
    </message>
    <message>
        <source>Run &amp;teacher</source>
        <translation>&amp;Lehrer starten</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>&amp;Abbrechen</translation>
    </message>
    <message>
        <source>Show the training &amp;set</source>
        <translation>&amp;Trainingsdaten anzeigen</translation>
    </message>
    <message>
        <source>Show the &amp;attribution</source>
        <translation>Attri&amp;bution anzeigen</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About FastGDA Studio</source>
        <translation>Ü&amp;ber FastGDA Studio</translation>
    </message>
    <message>
        <source>About FastGDA Studio</source>
        <translation>Über FastGDA Studio</translation>
    </message>
    <message>
        <source>Cannot open bundle</source>
        <translation>Bundle kann nicht geöffnet werden</translation>
    </message>
    <message>
        <source>No query yet. Generate an image (Ctrl+G), right-click a training image and choose &quot;Attribute this&quot;, or open or drop an image file.</source>
        <translation>Noch keine Abfrage. Generieren Sie ein Bild (Strg+G), klicken Sie mit der rechten Maustaste auf ein Trainingsbild und wählen Sie „Attribuieren“, oder öffnen Sie eine Bilddatei bzw. ziehen Sie sie hierher.</translation>
    </message>
    <message>
        <source>This bundle has no model to generate with</source>
        <translation>Dieses Bundle hat kein Modell zum Generieren</translation>
    </message>
    <message>
        <source>%1: %L2 training images, %L3 families, %L4 styles</source>
        <translation>%1: %L2 Trainingsbilder, %L3 Familien, %L4 Stile</translation>
    </message>
    <message>
        <source>%1 — FastGDA Studio</source>
        <translation>%1 — FastGDA Studio</translation>
    </message>
    <message>
        <source>Opening the student</source>
        <translation>Schüler wird geladen</translation>
    </message>
    <message>
        <source>Open bundle folder</source>
        <translation>Bundle-Ordner öffnen</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <source>All cores (%1)</source>
        <translation>Alle Kerne (%1)</translation>
    </message>
    <message>
        <source>CPU threads for generation, the student and the teacher</source>
        <translation>CPU-Threads für Generierung, Schüler und Lehrer</translation>
    </message>
    <message>
        <source>The built-in bundle</source>
        <translation>Mitgeliefertes Bundle</translation>
    </message>
    <message>
        <source>The bundle opened at start; empty: the built-in one</source>
        <translation>Das beim Start geöffnete Bundle; leer: das mitgelieferte</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Durchsuchen…</translation>
    </message>
    <message>
        <source>Default bundle folder</source>
        <translation>Ordner des Standard-Bundles</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Systemsprache</translation>
    </message>
    <message>
        <source>The language of menus and messages; applies after a restart</source>
        <translation>Die Sprache der Menüs und Meldungen; gilt nach einem Neustart</translation>
    </message>
    <message>
        <source>Compute threads</source>
        <translation>Rechen-Threads</translation>
    </message>
    <message>
        <source>Default bundle</source>
        <translation>Standard-Bundle</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Sprache</translation>
    </message>
    <message>
        <source>The new language applies when FastGDA Studio is restarted.</source>
        <translation>Die neue Sprache gilt nach einem Neustart von FastGDA Studio.</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <source>The prompt (caption) of %1:</source>
        <translation>Der Prompt (die Beschriftung) von %1:</translation>
    </message>
    <message>
        <source>Open an image to attribute</source>
        <translation>Ein Bild zum Attribuieren öffnen</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff)</source>
        <translation>Bilder (*.png *.jpg *.jpeg *.bmp *.webp *.tif *.tiff)</translation>
    </message>
    <message>
        <source>No jobs running</source>
        <translation>Keine laufenden Aufträge</translation>
    </message>
    <message numerus="yes">
        <source>%n job(s) running</source>
        <translation>
            <numerusform>%n Auftrag läuft</numerusform>
            <numerusform>%n Aufträge laufen</numerusform>
        </translation>
    </message>
    <message>
        <source>C&amp;harts</source>
        <translation>&amp;Diagramme</translation>
    </message>
    <message>
        <source>A&amp;blation</source>
        <translation>Ablati&amp;on</translation>
    </message>
    <message>
        <source>Held-out &amp;test queries</source>
        <translation>Zurückgehaltene Te&amp;stabfragen</translation>
    </message>
    <message>
        <source>The queries the students are evaluated on: the teacher&apos;s ranking is stored, so the charts appear at once</source>
        <translation>Die Abfragen, auf denen die Schüler ausgewertet werden: die Rangfolge des Lehrers ist gespeichert, daher erscheinen die Diagramme sofort</translation>
    </message>
    <message>
        <source>Show the c&amp;harts</source>
        <translation>&amp;Diagramme anzeigen</translation>
    </message>
    <message>
        <source>Show the a&amp;blation</source>
        <translation>Ablati&amp;on anzeigen</translation>
    </message>
    <message>
        <source>No query yet.</source>
        <translation>Noch keine Abfrage.</translation>
    </message>
    <message>
        <source>Not evaluated yet.</source>
        <translation>Noch nicht ausgewertet.</translation>
    </message>
    <message>
        <source>This bundle has no model to evaluate with.</source>
        <translation>Dieses Bundle hat kein Modell zum Auswerten.</translation>
    </message>
    <message>
        <source>Evaluating every method on the held-out test queries…</source>
        <translation>Alle Methoden werden auf den zurückgehaltenen Testabfragen ausgewertet…</translation>
    </message>
    <message>
        <source>Evaluate against the teacher</source>
        <translation>Gegen den Lehrer auswerten</translation>
    </message>
    <message>
        <source>Cannot evaluate: %1</source>
        <translation>Auswertung nicht möglich: %1</translation>
    </message>
    <message>
        <source>%1 (seed %2)</source>
        <translation>%1 (Seed %2)</translation>
    </message>
    <message>
        <source>&amp;Export</source>
        <translation>E&amp;xportieren</translation>
    </message>
    <message>
        <source>Exported %1</source>
        <translation>%1 exportiert</translation>
    </message>
    <message>
        <source>Cannot export</source>
        <translation>Export nicht möglich</translation>
    </message>
    <message>
        <source>PNG image (*.png);;PDF document (*.pdf);;SVG drawing (*.svg)</source>
        <translation>PNG-Bild (*.png);;PDF-Dokument (*.pdf);;SVG-Zeichnung (*.svg)</translation>
    </message>
    <message>
        <source>CSV table (*.csv)</source>
        <translation>CSV-Tabelle (*.csv)</translation>
    </message>
    <message>
        <source>Attribution &amp;figure…</source>
        <translation>Attributions&amp;grafik…</translation>
    </message>
    <message>
        <source>Export the attribution figure</source>
        <translation>Attributionsgrafik exportieren</translation>
    </message>
    <message>
        <source>Query &amp;report (PDF)…</source>
        <translation>Abfrage&amp;bericht (PDF)…</translation>
    </message>
    <message>
        <source>Export the query report</source>
        <translation>Abfragebericht exportieren</translation>
    </message>
    <message>
        <source>PDF document (*.pdf)</source>
        <translation>PDF-Dokument (*.pdf)</translation>
    </message>
    <message>
        <source>&amp;Student ranking (CSV)…</source>
        <translation>&amp;Schüler-Rangfolge (CSV)…</translation>
    </message>
    <message>
        <source>Export the student&apos;s ranking</source>
        <translation>Rangfolge des Schülers exportieren</translation>
    </message>
    <message>
        <source>&amp;Teacher ranking (CSV)…</source>
        <translation>&amp;Lehrer-Rangfolge (CSV)…</translation>
    </message>
    <message>
        <source>Export the teacher&apos;s ranking</source>
        <translation>Rangfolge des Lehrers exportieren</translation>
    </message>
    <message>
        <source>&amp;Ablation table (CSV)…</source>
        <translation>&amp;Ablationstabelle (CSV)…</translation>
    </message>
    <message>
        <source>Export the ablation table</source>
        <translation>Ablationstabelle exportieren</translation>
    </message>
    <message>
        <source>Ablation &amp;chart…</source>
        <translation>Ablations&amp;diagramm…</translation>
    </message>
    <message>
        <source>Export the ablation chart</source>
        <translation>Ablationsdiagramm exportieren</translation>
    </message>
    <message>
        <source>Export the trade-off chart</source>
        <translation>Qualität-Tempo-Diagramm exportieren</translation>
    </message>
    <message>
        <source>Evaluation cancelled.</source>
        <translation>Auswertung abgebrochen.</translation>
    </message>
    <message>
        <source>Trade-off c&amp;hart…</source>
        <translation>Qualität-&amp;Tempo-Diagramm…</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>E&amp;xtras</translation>
    </message>
    <message>
        <source>&amp;Distil a student…</source>
        <translation>Schüler &amp;destillieren…</translation>
    </message>
    <message>
        <source>Train a student in a feature space of your choice from the teacher&apos;s stored rankings</source>
        <translation>Einen Schüler in einem Merkmalsraum Ihrer Wahl aus den gespeicherten Rangfolgen des Lehrers trainieren</translation>
    </message>
    <message>
        <source>Co&amp;unterfactual</source>
        <translation>&amp;Kontrafaktisch</translation>
    </message>
    <message>
        <source>Where generation, the teacher and the student compute (Settings)</source>
        <translation>Wo Generierung, Lehrer und Schüler rechnen (Einstellungen)</translation>
    </message>
    <message>
        <source>%1; using the automatic choice</source>
        <translation>%1; die automatische Wahl wird verwendet</translation>
    </message>
    <message>
        <source>Automatic: a GPU when there is one</source>
        <translation>Automatisch: eine GPU, wenn vorhanden</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>Where the model, the teacher and the student compute; the search stays on the CPU</source>
        <translation>Wo Modell, Lehrer und Schüler rechnen; die Suche bleibt auf der CPU</translation>
    </message>
    <message>
        <source>This build&apos;s LibTorch (%1) has no CUDA: the CPU computes</source>
        <translation>Die LibTorch dieses Builds (%1) hat kein CUDA: die CPU rechnet</translation>
    </message>
    <message>
        <source>Compute device</source>
        <translation>Rechengerät</translation>
    </message>
    <message>
        <source>Show the c&amp;ounterfactual check</source>
        <translation>&amp;Kontrafaktische Prüfung anzeigen</translation>
    </message>
    <message>
        <source>&lt;p&gt;&lt;b&gt;FastGDA Studio&lt;/b&gt; %1&lt;/p&gt;&lt;p&gt;It finds which training images a text-to-image model drew on: the fast student (FastGDA) beside the slow, accurate teacher (attribution by unlearning).&lt;/p&gt;&lt;p&gt;Free software under the GNU GPL, version 3 or later.&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;FastGDA Studio&lt;/b&gt; %1&lt;/p&gt;&lt;p&gt;Es findet, aus welchen Trainingsbildern ein Text-zu-Bild-Modell geschöpft hat: der schnelle Schüler (FastGDA) neben dem langsamen, genauen Lehrer (Attribution durch Verlernen).&lt;/p&gt;&lt;p&gt;Freie Software unter der GNU GPL, Version 3 oder später.&lt;/p&gt;</translation>
    </message>
    <message numerus="yes">
        <source>%n held-out test queries now have teacher results (Query › Held-out test queries)</source>
        <translation>
            <numerusform>%n zurückgehaltene Testabfrage hat jetzt Lehrer-Ergebnisse (Abfrage › Zurückgehaltene Testabfragen)</numerusform>
            <numerusform>%n zurückgehaltene Testabfragen haben jetzt Lehrer-Ergebnisse (Abfrage › Zurückgehaltene Testabfragen)</numerusform>
        </translation>
    </message>
    <message>
        <source>Open %1</source>
        <translation>%1 öffnen</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::QueryCharts</name>
    <message>
        <source>Influence scores</source>
        <translation>Einflusswerte</translation>
    </message>
    <message>
        <source>Teacher rank vs student score</source>
        <translation>Lehrer-Rang gegen Schüler-Wert</translation>
    </message>
    <message>
        <source>Precision and recall</source>
        <translation>Präzision und Trefferquote</translation>
    </message>
    <message>
        <source>Drag to pan, wheel to zoom; right-click to reset or export</source>
        <translation>Ziehen zum Verschieben, Mausrad zum Zoomen; Rechtsklick zum Zurücksetzen oder Exportieren</translation>
    </message>
    <message>
        <source>No query yet.</source>
        <translation>Noch keine Abfrage.</translation>
    </message>
    <message>
        <source>The charts compare the student with the teacher: run the teacher on this query (Ctrl+T) to see them.</source>
        <translation>Die Diagramme vergleichen den Schüler mit dem Lehrer: Starten Sie den Lehrer für diese Abfrage (Strg+T), um sie zu sehen.</translation>
    </message>
    <message>
        <source>Waiting for the student&apos;s ranking of the whole training set…</source>
        <translation>Warten auf die Rangfolge des Schülers über alle Trainingsdaten…</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::QueryController</name>
    <message>
        <source>%1 · seed %2</source>
        <translation>%1 · Seed %2</translation>
    </message>
    <message>
        <source>This bundle has no student yet, so there is no instant answer: train one with Tools › Distil a student… (or `fastgda distill`) from the teacher&apos;s stored rankings. Run teacher gives the slow, accurate ranking meanwhile.</source>
        <translation>Dieses Bundle hat noch keinen Schüler, daher gibt es keine sofortige Antwort: Trainieren Sie einen mit Extras › Schüler destillieren… (oder `fastgda distill`) aus den gespeicherten Rangfolgen des Lehrers. „Lehrer starten“ liefert inzwischen die langsame, genaue Rangfolge.</translation>
    </message>
    <message>
        <source>The teacher is ranking all %L1 training images…</source>
        <translation>Der Lehrer erstellt die Rangfolge aller %L1 Trainingsbilder…</translation>
    </message>
    <message>
        <source>Not run yet. Run teacher (Ctrl+T) unlearns this query and ranks all %L1 training images: accurate but slow (minutes on a large set). The result is saved in the bundle.</source>
        <translation>Noch nicht gelaufen. „Lehrer starten“ (Strg+T) verlernt diese Abfrage und bringt alle %L1 Trainingsbilder in eine Rangfolge: genau, aber langsam (Minuten bei großen Datensätzen). Das Ergebnis wird im Bundle gespeichert.</translation>
    </message>
    <message>
        <source>Asking the student…</source>
        <translation>Der Schüler wird gefragt…</translation>
    </message>
    <message>
        <source>Opening the student…</source>
        <translation>Der Schüler wird geladen…</translation>
    </message>
    <message>
        <source>Student: %1</source>
        <translation>Schüler: %1</translation>
    </message>
    <message>
        <source>The student could not answer: %1</source>
        <translation>Der Schüler konnte nicht antworten: %1</translation>
    </message>
    <message>
        <source>Generate: %1</source>
        <translation>Generieren: %1</translation>
    </message>
    <message>
        <source>Cannot use this image</source>
        <translation>Dieses Bild kann nicht verwendet werden</translation>
    </message>
    <message>
        <source>Teacher: %1</source>
        <translation>Lehrer: %1</translation>
    </message>
    <message>
        <source>Cancelled. Open the query again from the history to ask the student again.</source>
        <translation>Abgebrochen. Öffnen Sie die Abfrage erneut aus dem Verlauf, um den Schüler noch einmal zu fragen.</translation>
    </message>
    <message>
        <source>Cancelled; nothing was saved. Run teacher starts again.</source>
        <translation>Abgebrochen; es wurde nichts gespeichert. „Lehrer starten“ beginnt von vorn.</translation>
    </message>
    <message>
        <source>The teacher failed: %1</source>
        <translation>Der Lehrer ist fehlgeschlagen: %1</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::QueryPanel</name>
    <message>
        <source>&amp;Generate</source>
        <translation>&amp;Generieren</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Open image…</source>
        <translation>Bild öffnen…</translation>
    </message>
    <message>
        <source>e.g. red apple, google style</source>
        <translation>z. B. red apple, google style</translation>
    </message>
    <message>
        <source>The prompt: what to draw, or the caption of an image you open.</source>
        <translation>Der Prompt: was gezeichnet werden soll, oder die Beschriftung eines geöffneten Bildes.</translation>
    </message>
    <message>
        <source>The same prompt and seed always give the same image.</source>
        <translation>Gleicher Prompt und gleicher Seed ergeben immer dasselbe Bild.</translation>
    </message>
    <message>
        <source>DDIM sampling steps: more are slower and a little sharper.</source>
        <translation>DDIM-Sampling-Schritte: mehr sind langsamer und etwas schärfer.</translation>
    </message>
    <message>
        <source>Classifier-free guidance: higher follows the prompt more closely.</source>
        <translation>Classifier-free Guidance: höhere Werte folgen dem Prompt genauer.</translation>
    </message>
    <message>
        <source>Generate the image and attribute it (Ctrl+G).</source>
        <translation>Das Bild generieren und attribuieren (Strg+G).</translation>
    </message>
    <message>
        <source>Stop generating (Esc).</source>
        <translation>Generierung anhalten (Esc).</translation>
    </message>
    <message>
        <source>Attribute an image file of your own, with the prompt above as its caption.</source>
        <translation>Eine eigene Bilddatei attribuieren, mit dem Prompt oben als Beschriftung.</translation>
    </message>
    <message>
        <source>Drop an image file here</source>
        <translation>Bilddatei hierher ziehen</translation>
    </message>
    <message>
        <source>Drop an image file here to attribute it with the prompt above.</source>
        <translation>Ziehen Sie eine Bilddatei hierher, um sie mit dem Prompt oben zu attribuieren.</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>Prompt</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Seed</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Schritte</translation>
    </message>
    <message>
        <source>Guidance</source>
        <translation>Guidance</translation>
    </message>
    <message>
        <source>starting…</source>
        <translation>wird gestartet…</translation>
    </message>
    <message>
        <source>Type a prompt first, e.g. red apple, google style</source>
        <translation>Geben Sie zuerst einen Prompt ein, z. B. red apple, google style</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::ResultRow</name>
    <message>
        <source>answered in %1 ms</source>
        <translation>beantwortet in %1 ms</translation>
    </message>
    <message>
        <source>ranked %L1 images in %2</source>
        <translation>%L1 Bilder in %2 eingeordnet</translation>
    </message>
    <message>
        <source>The ranking is empty.</source>
        <translation>Die Rangfolge ist leer.</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::ResultTile</name>
    <message>
        <source>Rank %1, score %2
%3
Click to see it large.</source>
        <translation>Rang %1, Score %2
%3
Anklicken für eine große Ansicht.</translation>
    </message>
    <message>
        <source>&lt;b&gt;#%1&lt;/b&gt; %2</source>
        <translation>&lt;b&gt;#%1&lt;/b&gt; %2</translation>
    </message>
</context>
<context>
    <name>fastgda::ui::TrainingBrowser</name>
    <message>
        <source>Attribute this image</source>
        <translation>Dieses Bild attribuieren</translation>
    </message>
    <message>
        <source>Filter training images by caption, e.g. &quot;thumbs up&quot;</source>
        <translation>Trainingsbilder nach Beschriftung filtern, z. B. „thumbs up“</translation>
    </message>
    <message>
        <source>Shows the images whose caption contains this text</source>
        <translation>Zeigt die Bilder, deren Beschriftung diesen Text enthält</translation>
    </message>
    <message>
        <source>Show one style only</source>
        <translation>Nur einen Stil anzeigen</translation>
    </message>
    <message>
        <source>Show one category only</source>
        <translation>Nur eine Kategorie anzeigen</translation>
    </message>
    <message>
        <source>Attribute this</source>
        <translation>Attribuieren</translation>
    </message>
    <message>
        <source>Use this training image and its caption as the query</source>
        <translation>Dieses Trainingsbild und seine Beschriftung als Abfrage verwenden</translation>
    </message>
    <message>
        <source>Use the selected training image and its caption as the query</source>
        <translation>Das ausgewählte Trainingsbild und seine Beschriftung als Abfrage verwenden</translation>
    </message>
    <message>
        <source>Click an image to see it here with its caption and metadata. Right-click it to attribute it.</source>
        <translation>Klicken Sie auf ein Bild, um es hier mit Beschriftung und Metadaten zu sehen. Mit einem Rechtsklick können Sie es attribuieren.</translation>
    </message>
    <message>
        <source>All styles</source>
        <translation>Alle Stile</translation>
    </message>
    <message>
        <source>All categories</source>
        <translation>Alle Kategorien</translation>
    </message>
    <message>
        <source>%L1 of %L2 images</source>
        <translation>%L1 von %L2 Bildern</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Data attribution for text-to-image models.</source>
        <translation>Datenattribution für Text-zu-Bild-Modelle.</translation>
    </message>
    <message>
        <source>Bundle folder (default: the one chosen in Settings, else the built-in bundle).</source>
        <translation>Bundle-Ordner (Standard: der in den Einstellungen gewählte, sonst das mitgelieferte Bundle).</translation>
    </message>
</context>
</TS>
