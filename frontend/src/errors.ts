/**
 * An error output gets one "Ask Copilot" button under it. A click inserts a cell below,
 * `%%copilot --error` with a question, and runs it: the kernel attaches the last error
 * (its traceback, as the person saw it) and the answer is a turn of the notebook's session,
 * kept and replayed like any other. The button goes when the error does.
 */
import { Cell, CodeCell } from '@jupyterlab/cells';
import { NotebookActions, NotebookPanel } from '@jupyterlab/notebook';
import { PanelLayout, Widget } from '@lumino/widgets';

export const ASK_QUESTION = 'What went wrong in the cell above, and how do I fix it?';
export const ASK_SOURCE = `%%copilot --error\n${ASK_QUESTION}`;
const BUTTON_CLASS = 'copilot-ask-error';

function hasError(cell: CodeCell): boolean {
  const outputs = cell.model.outputs;
  for (let index = 0; index < outputs.length; index++) {
    if (outputs.get(index).type === 'error') {
      return true;
    }
  }
  return false;
}

/** Insert the question below ``cell`` and run it, in the notebook's kernel. */
async function ask(panel: NotebookPanel, cell: CodeCell): Promise<void> {
  const notebook = panel.content;
  const index = notebook.widgets.indexOf(cell);
  if (index < 0) {
    return;
  }
  notebook.activeCellIndex = index;
  NotebookActions.insertBelow(notebook);
  const question = notebook.activeCell;
  if (!question || question.model.type !== 'code') {
    return;
  }
  question.model.sharedModel.setSource(ASK_SOURCE);
  await NotebookActions.run(notebook, panel.sessionContext);
}

function button(panel: NotebookPanel, cell: CodeCell): Widget {
  const node = document.createElement('div');
  node.className = BUTTON_CLASS;
  const action = document.createElement('button');
  action.type = 'button';
  action.className = 'jp-Button jp-mod-styled jp-mod-accept';
  action.textContent = 'Ask Copilot';
  action.title = 'Insert a %%copilot --error cell below and run it';
  action.addEventListener('click', () => void ask(panel, cell));
  node.appendChild(action);
  return new Widget({ node });
}

function watchCell(panel: NotebookPanel, cell: Cell): void {
  if (!(cell instanceof CodeCell) || cell.hasClass('copilot-ask-watched')) {
    return;
  }
  cell.addClass('copilot-ask-watched');
  let shown: Widget | null = null;
  const update = (): void => {
    const wanted = hasError(cell);
    if (wanted && !shown) {
      // Under the outputs, in the cell's own layout (it is part of the cell, not an output).
      const layout = cell.layout as PanelLayout;
      const outputs = layout.widgets.indexOf(cell.outputArea.parent ?? cell.outputArea);
      shown = button(panel, cell);
      layout.insertWidget(outputs + 1, shown);
    } else if (!wanted && shown) {
      shown.dispose();
      shown = null;
    }
  };
  cell.model.outputs.changed.connect(update);
  update();
}

/** Watch every code cell of ``panel`` for error outputs. */
export function offerAskOnErrors(panel: NotebookPanel): void {
  const notebook = panel.content;
  const watchAll = (): void => notebook.widgets.forEach(cell => watchCell(panel, cell));
  // A cell's widget exists once the notebook has handled the model's change: look after it.
  const onCells = (): void => void requestAnimationFrame(watchAll);
  const connectModel = (): void => {
    notebook.model?.cells.changed.connect(onCells); // once: a slot connects only once
    watchAll();
  };
  notebook.modelChanged.connect(connectModel);
  void panel.context.ready.then(connectModel);
}
