/**
 * copilot_magic in JupyterLab and Notebook 7.
 *
 * - A `%%copilot` cell is a prompt: its text is highlighted as Markdown, not Python.
 * - An error output gets an "Ask Copilot" button, which inserts a `%%copilot --error` cell
 *   below and runs it, so the question and its answer are a turn of the notebook's session.
 * - While a `%%copilot` cell replies, Copilot reads the notebook's cells and proposes edits,
 *   each reviewed on its cell as a diff (Accept, Reject) before anything changes.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import { watchPrompts } from './prompts';
import { offerAskOnErrors } from './errors';
import { linkKernel } from './link';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'copilot-magic:notebook',
  description:
    'copilot_magic in the notebook: %%copilot prompts read as Markdown; an error asks Copilot in one click; edits are reviewed on their cells.',
  autoStart: true,
  requires: [INotebookTracker],
  activate: (app: JupyterFrontEnd, notebooks: INotebookTracker): void => {
    const watch = (panel: NotebookPanel): void => {
      watchPrompts(panel.content);
      offerAskOnErrors(panel);
      linkKernel(panel);
    };
    notebooks.forEach(watch);
    notebooks.widgetAdded.connect((_, panel) => watch(panel));
  }
};

export default plugin;
